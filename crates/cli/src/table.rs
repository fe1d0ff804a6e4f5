//! Text tables for a terminal: cells padded by display width, where a Chinese character
//! takes two columns, never by `char` count, so that the columns line up.

use unicode_width::UnicodeWidthStr as _;

#[derive(Clone, Copy)]
pub enum Align {
    Left,
    Right,
}

/// One column of a table.
#[derive(Clone, Copy)]
pub struct Column {
    /// Spaces between the previous column and this one.
    pub gap: usize,
    /// The least width; the column widens to its widest cell.
    pub min_width: usize,
    pub align: Align,
}

/// The display width of `s` in a terminal.
pub fn width(s: &str) -> usize {
    s.width()
}

/// `rows` (the header first) laid out in `columns`, one string per row, without a newline:
/// each column as wide as its widest cell and at least its `min_width`. The last column is
/// not padded, so that no line ends in spaces.
pub fn layout(columns: &[Column], rows: &[Vec<String>]) -> Vec<String> {
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let widest = rows.iter().map(|r| width(&r[i])).max().unwrap_or(0);
            widest.max(c.min_width)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (i, (cell, column)) in row.iter().zip(columns).enumerate() {
                if i > 0 {
                    push_spaces(&mut line, column.gap);
                }
                let last = i + 1 == columns.len();
                let pad = widths[i] - width(cell);
                match column.align {
                    Align::Left if last => line.push_str(cell),
                    Align::Left => {
                        line.push_str(cell);
                        push_spaces(&mut line, pad);
                    }
                    Align::Right => {
                        push_spaces(&mut line, pad);
                        line.push_str(cell);
                    }
                }
            }
            line
        })
        .collect()
}

fn push_spaces(line: &mut String, n: usize) {
    line.extend(std::iter::repeat_n(' ', n));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|&c| c.to_owned()).collect()
    }

    #[test]
    fn chinese_cells_are_padded_by_display_width() {
        let columns = [
            Column {
                gap: 0,
                min_width: 4,
                align: Align::Left,
            },
            Column {
                gap: 2,
                min_width: 3,
                align: Align::Right,
            },
            Column {
                gap: 2,
                min_width: 0,
                align: Align::Left,
            },
        ];
        let lines = layout(
            &columns,
            &[
                row(&["zone", "n", "title"]),
                row(&["要素保障专区", "12", "标题"]),
                row(&["—", "7", "x"]),
            ],
        );
        assert_eq!(
            lines,
            [
                "zone            n  title",
                "要素保障专区   12  标题",
                "—               7  x",
            ]
        );
    }
}
