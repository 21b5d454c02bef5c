//! What the cache tier keys by, and how those keys are spelled in Redis and in
//! invalidation messages.

use std::fmt;

use graph::Id;

/// One cached thing: an anchor, or a node's adjacency list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum CacheKey {
    Node(Id),
    Edge(Id),
    Adjacency(Id),
}

impl CacheKey {
    /// Which of `shards` holds this key.
    pub(super) fn shard(&self, shards: usize) -> usize {
        let (Self::Node(id) | Self::Edge(id) | Self::Adjacency(id)) = self;
        // Ids end in random bits.
        (id.as_u128() % shards as u128) as usize
    }

    /// The key from its text form (`n:<id>`, `e:<id>`, `a:<id>`).
    pub(super) fn parse(text: &str) -> Option<Self> {
        let (kind, id) = text.split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "n" => Some(Self::Node(id)),
            "e" => Some(Self::Edge(id)),
            "a" => Some(Self::Adjacency(id)),
            _ => None,
        }
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Node(id) => write!(f, "n:{id}"),
            Self::Edge(id) => write!(f, "e:{id}"),
            Self::Adjacency(id) => write!(f, "a:{id}"),
        }
    }
}

/// The Redis names of one store's cache: every key and the channel start with
/// `jac-scale:graph:<store id>:`, so stores sharing one Redis never mix.
#[derive(Debug, Clone)]
pub(super) struct Namespace {
    prefix: String,
}

impl Namespace {
    pub(super) fn new(store_id: &str) -> Self {
        Self {
            prefix: format!("jac-scale:graph:{store_id}:"),
        }
    }

    /// Where a key's value lives.
    pub(super) fn data(&self, key: &CacheKey) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Where a key's invalidation count lives (fills check it, see `remote`).
    pub(super) fn version(&self, key: &CacheKey) -> String {
        format!("{}v:{key}", self.prefix)
    }

    /// The pattern matching every key of the namespace.
    pub(super) fn pattern(&self) -> String {
        format!("{}*", self.prefix)
    }

    /// The invalidation channel.
    pub(super) fn channel(&self) -> String {
        format!("{}invalidate", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_text() {
        let id = Id::generate();
        for key in [
            CacheKey::Node(id),
            CacheKey::Edge(id),
            CacheKey::Adjacency(id),
        ] {
            assert_eq!(CacheKey::parse(&key.to_string()), Some(key));
        }
        assert_eq!(CacheKey::parse("x:00"), None);
    }
}
