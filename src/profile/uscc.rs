//! 统一社会信用代码 (unified social credit identifier) validation, GB 32100-2015.

/// The 31 characters a code may use; a character's value is its index.
pub const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum UsccError {
    #[error("统一社会信用代码 `{0}` must have 18 characters")]
    Length(String),
    #[error(
        "统一社会信用代码 `{code}` has `{ch}` at position {pos}, outside the GB 32100 character set"
    )]
    Char { code: String, ch: char, pos: usize },
    #[error("统一社会信用代码 `{code}` has check character `{found}`, expected `{expected}`")]
    CheckDigit {
        code: String,
        found: char,
        expected: char,
    },
}

fn value(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|i| i as u32)
}

/// The check character for the first 17 characters, or `None` if one is invalid.
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (b, w) in bytes.iter().zip(WEIGHTS) {
        sum += value(*b)? * w;
    }
    let c = (31 - sum % 31) % 31;
    Some(CHARSET[c as usize] as char)
}

/// Validates an 18-character code, including its check character.
pub fn validate(code: &str) -> Result<(), UsccError> {
    if code.chars().count() != 18 {
        return Err(UsccError::Length(code.to_owned()));
    }
    for (i, ch) in code.chars().enumerate() {
        if !ch.is_ascii() || value(ch as u8).is_none() {
            return Err(UsccError::Char {
                code: code.to_owned(),
                ch,
                pos: i + 1,
            });
        }
    }
    // Every character was checked against the GB 32100 set above.
    let expected = check_char(&code[..17]).expect("characters checked above");
    let found = code.as_bytes()[17] as char;
    if found != expected {
        return Err(UsccError::CheckDigit {
            code: code.to_owned(),
            found,
            expected,
        });
    }
    Ok(())
}

/// A code as one integer, 5 bits per character: equal codes give equal integers and
/// different codes different ones. For sets of millions of codes (duplicate detection),
/// a sixth of the memory of the strings. `None` unless `code` is 18 characters of the
/// GB 32100 set (it need not have a valid check character).
pub fn pack(code: &str) -> Option<u128> {
    let bytes = code.as_bytes();
    if bytes.len() != 18 {
        return None;
    }
    bytes
        .iter()
        .try_fold(0u128, |acc, &b| Some((acc << 5) | u128::from(value(b)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_keeps_codes_apart() {
        let a = pack("91110000802100433B").unwrap();
        assert_eq!(pack("91110000802100433B"), Some(a));
        assert_ne!(pack("91440300708461136T"), Some(a));
        // Differing in one character, first or last.
        assert_ne!(pack("81110000802100433B"), Some(a));
        assert_ne!(pack("91110000802100433C"), Some(a));
        assert_eq!(pack("9111000080210043"), None);
        assert_eq!(pack("91110000802100433I"), None);
        assert_eq!(
            pack("YYYYYYYYYYYYYYYYYY").unwrap() >> 90,
            0,
            "18 × 5 bits fit"
        );
    }

    #[test]
    fn published_codes_validate() {
        // Codes printed on public business licences.
        for code in ["91110000802100433B", "91440300708461136T"] {
            assert_eq!(validate(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn a_changed_character_is_caught() {
        assert!(matches!(
            validate("91110000802100433C"),
            Err(UsccError::CheckDigit { expected: 'B', .. })
        ));
        assert!(matches!(
            validate("9111000080210043"),
            Err(UsccError::Length(_))
        ));
        assert!(matches!(
            validate("91110000802100433I"),
            Err(UsccError::Char {
                ch: 'I',
                pos: 18,
                ..
            })
        ));
    }
}
