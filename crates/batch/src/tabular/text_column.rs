//! A text column of a result table, gathered as a dictionary without hashing a value.
//!
//! Most of a push row's text repeats: the measure's id, title, zone and window are one of
//! 145 texts, and the enterprise's id and name repeat on each of its rows. Gathered as
//! row texts, polars copies every one into its buffers and then hashes every one again to
//! dictionary-encode the Parquet column: at 1M enterprises that was most of a run. Here
//! the caller says what repeats ([`CellRef::Keyed`], [`CellRef::Run`]), each distinct
//! text is stored once per row group, and a row costs a 4-byte key. The file holds the
//! same values (a Parquet dictionary is an encoding, not a type): read back, a column is
//! the text it always was.

use polars_arrow::array::{Array, DictionaryArray, MutablePlString, PrimitiveArray, Utf8ViewArray};
use polars_arrow::bitmap::{Bitmap, MutableBitmap};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};

use crate::table::CellRef;

/// Keyed texts of a row group compared with a new key's text, at most.
const KEYED_TEXTS_SCANNED: usize = 256;

/// Caller keys below this are looked up in a table, the others in a map.
const SLOT_TABLE: u32 = 1 << 16;

/// The values of one text column in the row group being gathered.
#[derive(Default)]
pub(super) struct TextColumn {
    /// The distinct texts of the row group, in order of first use.
    values: MutablePlString,
    /// Each row's place in `values`.
    keys: Vec<u32>,
    /// The rows that are not null; `None` while every row has a value.
    validity: Option<MutableBitmap>,
    /// `slots[k]`: one more than the place in `values` of the text of caller key `k`
    /// ([`CellRef::Keyed`]); 0 while that key has no row in this row group.
    slots: Vec<u32>,
    /// The caller keys given a slot in this row group, so that clearing costs as many.
    used: Vec<u32>,
    /// The slots of keys from [`SLOT_TABLE`] on (keys that only grow, as those of an
    /// enterprise's push list), so that `slots` stays small.
    far_slots: rustc_hash::FxHashMap<u32, u32>,
    /// The places in `values` of the keyed texts: keys with the same text (a zone shared
    /// by many measures) share one, as a dictionary built by hashing would have it.
    keyed_texts: Vec<u32>,
    /// The entity number and place of the previous row's text when it came as a
    /// [`CellRef::Run`].
    last_run: Option<(u64, u32)>,
}

impl TextColumn {
    /// A column with room for `rows` rows a row group.
    pub(super) fn with_capacity(rows: usize) -> TextColumn {
        TextColumn {
            keys: Vec::with_capacity(rows),
            ..TextColumn::default()
        }
    }

    /// Appends one row's text. A cell that is not text is the caller's error, checked
    /// before anything of the row is appended.
    pub(super) fn push(&mut self, cell: CellRef<'_>) {
        let key = match cell {
            CellRef::Keyed(k, text) => self.keyed(k, text),
            CellRef::Run(entity, text) => match self.last_run {
                Some((last, at)) if last == entity => at,
                _ => {
                    let at = self.add(text);
                    self.last_run = Some((entity, at));
                    at
                }
            },
            CellRef::Text(text) => self.add(text),
            CellRef::Int(_) | CellRef::Float(_) => unreachable!("checked by the caller"),
        };
        if !matches!(cell, CellRef::Run(..)) {
            self.last_run = None;
        }
        self.keys.push(key);
        if let Some(v) = &mut self.validity {
            v.push(true);
        }
    }

    pub(super) fn push_null(&mut self) {
        let validity = self.validity.get_or_insert_with(|| {
            let mut v = MutableBitmap::with_capacity(self.keys.capacity());
            v.extend_constant(self.keys.len(), true);
            v
        });
        validity.push(false);
        self.keys.push(0);
        self.last_run = None;
    }

    fn keyed(&mut self, k: u32, text: &str) -> u32 {
        if k >= SLOT_TABLE {
            if let Some(&at) = self.far_slots.get(&k) {
                return at;
            }
            let at = self.add(text);
            self.far_slots.insert(k, at);
            return at;
        }
        let k = k as usize;
        if k >= self.slots.len() {
            self.slots.resize(k + 1, 0);
        }
        match self.slots[k] {
            0 => {
                // A new key of the row group. Keys by measure are a few hundred at most, so
                // a scan is cheap; past that, texts are stored as they come.
                let values = &self.values;
                let shared = match self.keyed_texts.len() {
                    0..=KEYED_TEXTS_SCANNED => self
                        .keyed_texts
                        .iter()
                        .find(|&&at| values.value(at as usize) == text),
                    _ => None,
                };
                let at = match shared {
                    Some(&at) => at,
                    None => {
                        let at = self.add(text);
                        self.keyed_texts.push(at);
                        at
                    }
                };
                self.slots[k] = at + 1;
                self.used.push(k as u32);
                at
            }
            slot => {
                debug_assert_eq!(self.values.value(slot as usize - 1), text, "key {k}");
                slot - 1
            }
        }
    }

    fn add(&mut self, text: &str) -> u32 {
        self.values.push_value(text);
        // A row group has far fewer than 2^32 rows (`ROW_GROUP_ROWS`).
        (self.values.len() - 1) as u32
    }

    /// The row group's column, gathering starts again. As a dictionary when rows share
    /// texts; as plain text when every row has a text of its own, so that the Parquet
    /// writer decides the encoding as it does for any text (its own dictionary when the
    /// texts repeat after all, plain when they do not). In memory (`plain`), always as
    /// text: the column an Arrow consumer expects.
    pub(super) fn take(&mut self, plain: bool) -> Box<dyn Array> {
        for &k in &self.used {
            self.slots[k as usize] = 0;
        }
        self.used.clear();
        self.far_slots.clear();
        self.keyed_texts.clear();
        self.last_run = None;
        let values: Utf8ViewArray = std::mem::take(&mut self.values).into();
        let keys = std::mem::take(&mut self.keys);
        let validity: Option<Bitmap> = self.validity.take().map(Into::into);
        let nulls = validity.as_ref().map_or(0, Bitmap::unset_bits);
        let own_texts = values.len() == keys.len() - nulls;
        if own_texts && nulls == 0 {
            // Keys are 0, 1, 2, …: the values are the column.
            return values.boxed();
        }
        if plain || own_texts {
            let mut column = MutablePlString::with_capacity(keys.len());
            for (row, &k) in keys.iter().enumerate() {
                if validity.as_ref().is_some_and(|v| !v.get_bit(row)) {
                    column.push_null();
                } else {
                    column.push_view(values.views()[k as usize], values.data_buffers());
                }
            }
            let column: Utf8ViewArray = column.into();
            return column.boxed();
        }
        let keys = PrimitiveArray::new(ArrowDataType::UInt32, keys.into(), validity);
        let dtype = ArrowDataType::Dictionary(
            IntegerType::UInt32,
            Box::new(ArrowDataType::Utf8View),
            false,
        );
        // Every key is a place in `values`, by construction.
        DictionaryArray::try_new(dtype, keys, values.boxed())
            .expect("keys index the values")
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(a: &dyn Array) -> Vec<Option<String>> {
        as_text(a).iter().map(|v| v.map(str::to_owned)).collect()
    }

    /// A column back as text, from either form.
    fn as_text(a: &dyn Array) -> Utf8ViewArray {
        if let Some(t) = a.as_any().downcast_ref::<Utf8ViewArray>() {
            return t.clone();
        }
        let d = a
            .as_any()
            .downcast_ref::<DictionaryArray<u32>>()
            .expect("text or dictionary");
        let values = d
            .values()
            .as_any()
            .downcast_ref::<Utf8ViewArray>()
            .expect("text values");
        let mut out = MutablePlString::new();
        for k in d.keys().iter() {
            out.push(k.map(|&k| values.value(k as usize)));
        }
        out.into()
    }

    #[test]
    fn shared_texts_are_stored_once_and_read_back_row_by_row() {
        let mut c = TextColumn::default();
        let rows = [
            CellRef::Keyed(7, "专精特新「小巨人」企业奖励"),
            CellRef::Keyed(2, "科创人才专区"),
            CellRef::Keyed(7, "专精特新「小巨人」企业奖励"),
            CellRef::Run(1, "91330621MA2BK7R415"),
            CellRef::Run(1, "91330621MA2BK7R415"),
            CellRef::Text("一"),
            CellRef::Run(1, "91330621MA2BK7R415"),
        ];
        for r in rows {
            c.push(r);
        }
        c.push_null();
        let a = c.take(false);
        let d = a
            .as_any()
            .downcast_ref::<DictionaryArray<u32>>()
            .expect("a dictionary: rows share texts");
        // Keyed twice, a run of two, the text, the run again after a break.
        assert_eq!(d.values().len(), 5);
        // Two keys with one text share it.
        c.push(CellRef::Keyed(3, "要素保障专区"));
        c.push(CellRef::Keyed(4, "要素保障专区"));
        let shared = c.take(false);
        let d = shared
            .as_any()
            .downcast_ref::<DictionaryArray<u32>>()
            .expect("a dictionary");
        assert_eq!(d.values().len(), 1);
        let want: Vec<Option<String>> = rows
            .iter()
            .map(|r| match r {
                CellRef::Keyed(_, t) | CellRef::Run(_, t) | CellRef::Text(t) => Some(t.to_string()),
                _ => None,
            })
            .chain([None])
            .collect();
        assert_eq!(texts(a.as_ref()), want);
        // The next row group starts afresh: key 7 is stored again.
        c.push(CellRef::Keyed(7, "专精特新「小巨人」企业奖励"));
        c.push(CellRef::Keyed(7, "专精特新「小巨人」企业奖励"));
        // Keys far apart (those of push lists grow with the run) share a text alike.
        c.push(CellRef::Keyed(SLOT_TABLE + 5, "M001 甲 | M002 乙"));
        c.push(CellRef::Keyed(SLOT_TABLE + 5, "M001 甲 | M002 乙"));
        let again = c.take(false);
        let d = again
            .as_any()
            .downcast_ref::<DictionaryArray<u32>>()
            .expect("a dictionary");
        assert_eq!(d.values().len(), 2);
        let title = Some("专精特新「小巨人」企业奖励".to_string());
        let list = Some("M001 甲 | M002 乙".to_string());
        assert_eq!(
            texts(again.as_ref()),
            [title.clone(), title, list.clone(), list]
        );
        // In memory a column is always text.
        c.push(CellRef::Keyed(1, "甲"));
        c.push(CellRef::Keyed(1, "甲"));
        c.push_null();
        let plain = c.take(true);
        assert!(plain.as_any().downcast_ref::<Utf8ViewArray>().is_some());
        assert_eq!(
            texts(plain.as_ref()),
            [Some("甲".into()), Some("甲".into()), None]
        );
    }

    #[test]
    fn texts_of_their_own_are_plain_text() {
        let mut c = TextColumn::default();
        for t in ["a", "b", "a"] {
            c.push(CellRef::Text(t));
        }
        let a = c.take(false);
        assert!(a.as_any().downcast_ref::<Utf8ViewArray>().is_some());
        assert_eq!(
            texts(a.as_ref()),
            [Some("a".into()), Some("b".into()), Some("a".into())]
        );
        c.push(CellRef::Text("x"));
        c.push_null();
        let a = c.take(false);
        assert_eq!(texts(a.as_ref()), [Some("x".into()), None]);
    }
}
