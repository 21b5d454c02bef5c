//! Anchor ids: 128-bit, written as 32 lowercase hex digits.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The id of a node, edge or root: 128 bits, shown as 32 lowercase hex digits.
///
/// New ids are UUIDv7-shaped (a millisecond timestamp followed by 74 random bits), so
/// fresh anchors land next to each other in the store's indexes instead of at random
/// places. Ids are not secrets: every read is access-checked.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u128);

impl Id {
    /// A fresh, practically unique id.
    pub fn generate() -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
        let random: [u8; 10] = rand::random();
        Self(
            uuid::Builder::from_unix_timestamp_millis(millis, &random)
                .into_uuid()
                .as_u128(),
        )
    }

    /// The id with these 128 bits.
    pub const fn from_u128(bits: u128) -> Self {
        Self(bits)
    }

    /// The 128 bits of this id.
    pub const fn as_u128(self) -> u128 {
        self.0
    }

    /// Big-endian bytes (the order of the hex form), as stores keep it.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// The id from its big-endian bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(u128::from_be_bytes(bytes))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ids are formatted for every node and edge a call reads: one table-driven pass,
        // not `{:032x}`'s padded integer formatting.
        let mut text = [0u8; 32];
        hex::encode_to_slice(self.0.to_be_bytes(), &mut text).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

/// A string that is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid id {0:?}: expected 32 hex digits")]
pub struct ParseIdError(String);

impl FromStr for Id {
    type Err = ParseIdError;

    /// Accepts 32 hex digits or the hyphenated UUID form (`8-4-4-4-12`), in either case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || ParseIdError(text.chars().take(40).collect());
        let digits: &mut dyn Iterator<Item = u8> = match text.len() {
            32 => &mut text.bytes(),
            36 if [8, 13, 18, 23]
                .iter()
                .all(|&at| text.as_bytes()[at] == b'-') =>
            {
                &mut text.bytes().filter(|&byte| byte != b'-')
            }
            _ => return Err(invalid()),
        };
        let mut bits = 0u128;
        let mut count = 0;
        for byte in digits {
            let digit = char::from(byte).to_digit(16).ok_or_else(invalid)?;
            bits = (bits << 4) | u128::from(digit);
            count += 1;
        }
        if count != 32 {
            return Err(invalid());
        }
        Ok(Self(bits))
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id of 32 hex digits")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Id, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(IdVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_32_lowercase_hex_and_round_trips() {
        let id = Id::generate();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(text.parse::<Id>(), Ok(id));
    }

    #[test]
    fn hyphenated_uuid_and_uppercase_parse() {
        let id: Id = "0123456789ABCDEF0123456789abcdef".parse().unwrap();
        assert_eq!(id.to_string(), "0123456789abcdef0123456789abcdef");
        let hyphenated: Id = "01234567-89ab-cdef-0123-456789abcdef".parse().unwrap();
        assert_eq!(hyphenated, id);
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "xyz",
            "0123456789abcdef0123456789abcdeg",
            "+123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef0",
            "0123456789-abcdef-0123-456789abcde",
            "01234567-89ab-cdef-0123-456789abcd-f",
            "é123456789abcdef0123456789abcde",
        ] {
            assert!(bad.parse::<Id>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn generated_ids_are_distinct_and_time_ordered() {
        let first = Id::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = Id::generate();
        assert!(first < second);
    }

    #[test]
    fn serde_uses_the_hex_string() {
        let id = Id::from_u128(0xabc);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"00000000000000000000000000000abc\"");
        assert_eq!(serde_json::from_str::<Id>(&json).unwrap(), id);
        assert!(serde_json::from_str::<Id>("\"nope\"").is_err());
    }
}
