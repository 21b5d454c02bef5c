//! Walkers: abilities, the visit queue and the traversal algorithm of Jac (jaclang
//! 0.9.8 and later), run inside the guest.
//!
//! One spawn keeps one FIFO queue of locations. Untyped entry abilities run once, then
//! locations are taken from the front of the queue one at a time: a location's entry
//! abilities run when it is taken, and its exit abilities run once every location queued
//! after it has been processed (post-order of that recursion), so exits run in the reverse
//! order of entries. `disengage` stops at once and skips every exit. There is no visited
//! set: a cycle that keeps visiting loops until the walker disengages (or the host stops
//! the call).
//!
//! The recursion is kept on an explicit stack, so a walk over a million nodes needs no
//! deep native stack.

use std::collections::VecDeque;
use std::ops::Deref;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::graph::{Id, Node, NodeRef, NodeType};

/// When an ability fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// When the walker arrives (`with X entry`).
    Entry,
    /// When the walker leaves (`with X exit`).
    Exit,
}

/// The body of an ability.
pub type AbilityFn<W> = fn(&mut W, &mut Walk<'_>) -> Result;

/// One ability of a walker: `can name with Todo entry { ... }`.
pub struct Ability<W> {
    /// Entry or exit.
    pub event: Event,
    /// The node archetypes it fires on; empty = untyped, once per spawn.
    pub on: &'static [&'static str],
    /// Its body.
    pub run: AbilityFn<W>,
}

impl<W> Ability<W> {
    fn fires(&self, event: Event, archetype: Option<&str>) -> bool {
        self.event == event
            && match archetype {
                None => self.on.is_empty(),
                Some(archetype) => self.on.contains(&archetype),
            }
    }
}

/// A walker type: its abilities in declaration order. `#[walker] impl` implements it.
pub trait Walker: Sized + 'static {
    /// The abilities, in declaration order.
    const ABILITIES: &'static [Ability<Self>];
}

/// Things a walker can visit or be spawned on: nodes, ids, and lists of them.
pub trait Locations {
    /// The nodes, in order (an [`Id`] costs one host call).
    fn locations(self, cx: &Ctx) -> Result<Vec<NodeRef>>;
}

impl Locations for NodeRef {
    fn locations(self, _: &Ctx) -> Result<Vec<NodeRef>> {
        Ok(vec![self])
    }
}

impl Locations for &NodeRef {
    fn locations(self, _: &Ctx) -> Result<Vec<NodeRef>> {
        Ok(vec![self.clone()])
    }
}

impl<T: NodeType> Locations for Node<T> {
    fn locations(self, _: &Ctx) -> Result<Vec<NodeRef>> {
        Ok(vec![self.to_ref()?])
    }
}

impl<T: NodeType> Locations for &Node<T> {
    fn locations(self, _: &Ctx) -> Result<Vec<NodeRef>> {
        Ok(vec![self.to_ref()?])
    }
}

impl Locations for Id {
    fn locations(self, cx: &Ctx) -> Result<Vec<NodeRef>> {
        Ok(vec![cx.get(&self)?])
    }
}

impl Locations for &Id {
    fn locations(self, cx: &Ctx) -> Result<Vec<NodeRef>> {
        Ok(vec![cx.get(self)?])
    }
}

impl<L: Locations> Locations for Option<L> {
    fn locations(self, cx: &Ctx) -> Result<Vec<NodeRef>> {
        self.map_or_else(|| Ok(Vec::new()), |location| location.locations(cx))
    }
}

impl<L: Locations> Locations for Vec<L> {
    fn locations(self, cx: &Ctx) -> Result<Vec<NodeRef>> {
        collect(self, cx)
    }
}

impl<'a, L> Locations for &'a [L]
where
    &'a L: Locations,
{
    fn locations(self, cx: &Ctx) -> Result<Vec<NodeRef>> {
        collect(self, cx)
    }
}

impl<'a, L> Locations for &'a Vec<L>
where
    &'a L: Locations,
{
    fn locations(self, cx: &Ctx) -> Result<Vec<NodeRef>> {
        collect(self, cx)
    }
}

fn collect<L: Locations>(items: impl IntoIterator<Item = L>, cx: &Ctx) -> Result<Vec<NodeRef>> {
    let mut all = Vec::new();
    for item in items {
        all.extend(item.locations(cx)?);
    }
    Ok(all)
}

/// The state of one walker spawn, handed to every ability. Derefs to [`Ctx`] for
/// reports and graph calls.
pub struct Walk<'c> {
    cx: &'c Ctx,
    here: NodeRef,
    queue: VecDeque<NodeRef>,
    disengaged: bool,
}

impl Deref for Walk<'_> {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        self.cx
    }
}

impl<'c> Walk<'c> {
    /// The walker's current location (`here`).
    pub fn here(&self) -> &NodeRef {
        &self.here
    }

    /// The current location as a `T`; a `TypeError` when it is another archetype.
    #[track_caller]
    pub fn here_as<T: NodeType>(&self) -> Result<Node<T>> {
        self.here.cast()
    }

    /// Queues locations at the back (`visit x;`). Returns whether anything was queued,
    /// for `visit x else { ... }`.
    pub fn visit(&mut self, to: impl Locations) -> Result<bool> {
        let locations = to.locations(self.cx)?;
        let queued = !locations.is_empty();
        self.queue.extend(locations);
        Ok(queued)
    }

    /// Queues locations at the front, in their order (`visit :0: x;`): they are processed next.
    pub fn visit_first(&mut self, to: impl Locations) -> Result<bool> {
        let locations = to.locations(self.cx)?;
        let queued = !locations.is_empty();
        for location in locations.into_iter().rev() {
            self.queue.push_front(location);
        }
        Ok(queued)
    }

    /// Stops the walker now (`disengage;`): queued locations are dropped and no exit
    /// ability runs. Return right away: `return w.disengage();`.
    pub fn disengage(&mut self) -> Result {
        self.disengaged = true;
        Ok(())
    }

    /// Runs `walker` from `start` to completion.
    pub(crate) fn run<W: Walker>(cx: &'c Ctx, walker: &mut W, start: Vec<NodeRef>) -> Result {
        let queue = VecDeque::from(start);
        let Some(first) = queue.front().cloned() else {
            return Ok(());
        };
        let mut walk = Walk {
            cx,
            here: first,
            queue,
            disengaged: false,
        };
        walk.fire(walker, Event::Entry, None)?;
        // Locations entered whose exits are still due, innermost last.
        let mut entered: Vec<NodeRef> = Vec::new();
        let mut last: Option<NodeRef> = None;
        while !walk.disengaged {
            if let Some(location) = walk.queue.pop_front() {
                if cx.is_deleted(&location.id) {
                    continue;
                }
                walk.here = cx.latest(location);
                last = Some(walk.here.clone());
                entered.push(walk.here.clone());
                let archetype = walk.here.archetype.clone();
                walk.fire(walker, Event::Entry, Some(&archetype))?;
            } else if let Some(location) = entered.pop() {
                walk.here = cx.latest(location);
                let archetype = walk.here.archetype.clone();
                walk.fire(walker, Event::Exit, Some(&archetype))?;
            } else {
                break;
            }
        }
        if let Some(last) = last
            && !walk.disengaged
        {
            walk.here = cx.latest(last);
            walk.fire(walker, Event::Exit, None)?;
        }
        Ok(())
    }

    /// Runs the abilities for `event` on `archetype` (`None`: the untyped ones), in
    /// declaration order, stopping once the walker disengages.
    fn fire<W: Walker>(&mut self, walker: &mut W, event: Event, archetype: Option<&str>) -> Result {
        for ability in W::ABILITIES
            .iter()
            .filter(|ability| ability.fires(event, archetype))
        {
            (ability.run)(walker, self)?;
            if self.disengaged {
                break;
            }
        }
        Ok(())
    }
}
