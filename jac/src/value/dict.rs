//! Insertion-ordered `dict` and `set` keyed by hashable values.
//!
//! Keys are wrapped in [`HashKey`], which checks hashability once and caches
//! a Python-compatible hash: `1`, `1.0` and `True` hash (and compare) equal.

use std::hash::{Hash, Hasher};

use indexmap::{IndexMap, IndexSet};
use num_traits::FromPrimitive;
use rustc_hash::{FxBuildHasher, FxHasher};

use super::{ExcType, Exception, JacResult, Value, num, ops};

/// A hashable value with its cached hash.
#[derive(Clone)]
pub struct HashKey {
    hash: u64,
    value: Value,
}

impl HashKey {
    /// Wraps `value`, raising `TypeError` if it is unhashable (list, dict, set).
    pub fn new(value: Value) -> JacResult<Self> {
        let hash = hash_value(&value)?;
        Ok(Self { hash, value })
    }

    /// A string key (always hashable).
    pub fn str(s: &str) -> Self {
        Self {
            hash: hash_str(s),
            value: Value::str(s),
        }
    }

    /// The wrapped value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Unwraps the value.
    pub fn into_value(self) -> Value {
        self.value
    }
}

impl Hash for HashKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for HashKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && ops::eq(&self.value, &other.value)
    }
}

impl Eq for HashKey {}

fn hash_str(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.write_u8(0xff);
    h.finish()
}

fn hash_int(i: i64) -> u64 {
    let mut h = FxHasher::default();
    h.write_i64(i);
    h.finish()
}

fn hash_ptr<T: ?Sized>(p: *const T) -> u64 {
    let mut h = FxHasher::default();
    h.write_usize(p.cast::<u8>() as usize);
    h.finish()
}

/// Python `hash(value)`, consistent with [`ops::eq`] across numeric types.
pub fn hash_value(value: &Value) -> JacResult<u64> {
    Ok(match value {
        Value::None => 0x5eed_0000_0000_0001,
        Value::Bool(b) => hash_int(i64::from(*b)),
        Value::Int(i) => hash_int(*i),
        Value::BigInt(b) => {
            let mut h = FxHasher::default();
            h.write(&b.to_signed_bytes_le());
            h.finish()
        }
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                hash_int(*f as i64)
            } else if let Some(big) = num_bigint::BigInt::from_f64(*f).filter(|_| f.fract() == 0.0)
            {
                hash_value(&num::int_value(big))?
            } else {
                let mut h = FxHasher::default();
                h.write_u64(f.to_bits());
                h.finish()
            }
        }
        Value::Str(s) => hash_str(s),
        Value::Bytes(b) => {
            let mut h = FxHasher::default();
            h.write(b);
            h.write_u8(0xfe);
            h.finish()
        }
        Value::Tuple(items) => {
            let mut h = FxHasher::default();
            h.write_usize(items.len());
            for item in items.iter() {
                h.write_u64(hash_value(item)?);
            }
            h.finish()
        }
        Value::Range(r) => {
            let mut h = FxHasher::default();
            (r.start, r.stop, r.step).hash(&mut h);
            h.finish()
        }
        Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::Slice(_) => {
            return Err(Exception::new(
                ExcType::TypeError,
                format!("unhashable type: '{}'", value.type_name()),
            ));
        }
        Value::Iter(p) => hash_ptr(std::rc::Rc::as_ptr(p)),
        Value::Function(p) => hash_ptr(std::rc::Rc::as_ptr(p)),
        Value::BoundMethod(p) => hash_ptr(std::rc::Rc::as_ptr(p)),
        Value::Native(p) => hash_ptr(std::rc::Rc::as_ptr(p)),
        Value::Class(p) => hash_ptr(std::rc::Rc::as_ptr(p)),
        Value::Instance(p) => hash_ptr(std::rc::Rc::as_ptr(p)),
        Value::Module(p) => hash_ptr(std::rc::Rc::as_ptr(p)),
        Value::Object(o) => match o.hash() {
            Some(h) => h,
            None => hash_ptr(std::rc::Rc::as_ptr(o)),
        },
    })
}

/// An insertion-ordered `dict`.
#[derive(Clone, Default)]
pub struct Dict {
    map: IndexMap<HashKey, Value, FxBuildHasher>,
}

impl Dict {
    /// An empty dict.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the dict is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Looks a key up (raises only if the key is unhashable).
    pub fn get(&self, key: &Value) -> JacResult<Option<Value>> {
        if let Value::Str(s) = key {
            return Ok(self.get_str(s));
        }
        Ok(self.map.get(&HashKey::new(key.clone())?).cloned())
    }

    /// Looks a string key up.
    pub fn get_str(&self, key: &str) -> Option<Value> {
        self.map.get(&HashKey::str(key)).cloned()
    }

    /// Inserts or replaces (keeping the original position of an existing key).
    pub fn insert(&mut self, key: Value, value: Value) -> JacResult<()> {
        self.map.insert(HashKey::new(key)?, value);
        Ok(())
    }

    /// Inserts a string key.
    pub fn insert_str(&mut self, key: &str, value: Value) {
        self.map.insert(HashKey::str(key), value);
    }

    /// Removes a key, preserving the order of the others.
    pub fn remove(&mut self, key: &Value) -> JacResult<Option<Value>> {
        Ok(self.map.shift_remove(&HashKey::new(key.clone())?))
    }

    /// Whether the key is present.
    pub fn contains(&self, key: &Value) -> JacResult<bool> {
        Ok(self.map.contains_key(&HashKey::new(key.clone())?))
    }

    /// Removes and returns the last entry.
    pub fn pop_last(&mut self) -> Option<(Value, Value)> {
        self.map.pop().map(|(k, v)| (k.into_value(), v))
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.map.iter().map(|(k, v)| (k.value(), v))
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &Value> {
        self.map.keys().map(HashKey::value)
    }

    /// Values in insertion order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.map.values()
    }
}

/// An insertion-ordered `set`.
#[derive(Clone, Default)]
pub struct Set {
    items: IndexSet<HashKey, FxBuildHasher>,
}

impl Set {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds a member (raises if unhashable); returns whether it was new.
    pub fn insert(&mut self, value: Value) -> JacResult<bool> {
        Ok(self.items.insert(HashKey::new(value)?))
    }

    /// Membership test.
    pub fn contains(&self, value: &Value) -> JacResult<bool> {
        Ok(self.items.contains(&HashKey::new(value.clone())?))
    }

    /// Removes a member; returns whether it was present.
    pub fn remove(&mut self, value: &Value) -> JacResult<bool> {
        Ok(self.items.shift_remove(&HashKey::new(value.clone())?))
    }

    /// Removes and returns an arbitrary (the last) member.
    pub fn pop(&mut self) -> Option<Value> {
        self.items.pop().map(HashKey::into_value)
    }

    /// Removes every member.
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Members in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Value> {
        self.items.iter().map(HashKey::value)
    }

    /// A set of the given values.
    pub fn from_values(values: impl IntoIterator<Item = Value>) -> JacResult<Self> {
        let mut set = Self::new();
        for v in values {
            set.insert(v)?;
        }
        Ok(set)
    }
}
