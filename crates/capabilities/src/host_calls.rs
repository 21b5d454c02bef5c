//! How many host calls a call made, by capability (the metrics' `host_calls_total`).

/// A `jac:scale` import, as the metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// `jac:scale/graph`.
    Graph,
    /// `jac:scale/kvstore`.
    Kvstore,
    /// `jac:scale/storage`.
    Storage,
    /// `jac:scale/globals`.
    Globals,
    /// `jac:scale/log`.
    Log,
    /// `jac:scale/timer`.
    Timer,
}

impl Capability {
    /// Every capability, in label order.
    pub const ALL: [Capability; 6] = [
        Capability::Graph,
        Capability::Kvstore,
        Capability::Storage,
        Capability::Globals,
        Capability::Log,
        Capability::Timer,
    ];

    /// The label value of this capability.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Graph => "graph",
            Capability::Kvstore => "kvstore",
            Capability::Storage => "storage",
            Capability::Globals => "globals",
            Capability::Log => "log",
            Capability::Timer => "timer",
        }
    }
}

/// Host calls of one guest call, by capability.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCalls([u64; Capability::ALL.len()]);

impl HostCalls {
    /// One more call of `capability`.
    pub(crate) fn count(&mut self, capability: Capability) {
        let n = &mut self.0[capability as usize];
        *n = n.saturating_add(1);
    }

    /// The calls of `capability`.
    pub fn of(&self, capability: Capability) -> u64 {
        self.0[capability as usize]
    }
}
