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
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no abilities",
    label = "a walker needs its abilities block",
    note = "add `#[walker] impl {Self} {{ ... }}` (it may be empty)"
)]
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

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use crate::prelude::*;
    use crate::testing::MemoryGraph;

    #[node]
    struct Spot {
        name: String,
    }

    /// Records every ability that fires; visits all outgoing neighbours on entry.
    #[walker]
    struct Trace {
        #[jac(default = [])]
        log: Vec<String>,
        /// Disengage on entering the node of this name.
        #[jac(default = "")]
        stop_at: String,
        /// `visit :0:` instead of `visit`.
        #[jac(default = false)]
        front: bool,
        /// Disengage after this many typed entries (for cycles).
        #[jac(default = 100)]
        max_entries: usize,
    }

    #[walker]
    impl Trace {
        #[entry]
        fn begin(&mut self, w: &mut Walk) -> Result {
            self.log.push(format!("begin@{}", name_of(w.here())));
            Ok(())
        }

        #[entry(Root, Spot)]
        fn enter(&mut self, w: &mut Walk) -> Result {
            let name = name_of(w.here());
            self.log.push(format!("+{name}"));
            if name == self.stop_at || self.log.len() > self.max_entries {
                return w.disengage();
            }
            let next = w.neighbors(w.here()).nodes()?;
            if self.front {
                w.visit_first(next)?;
            } else {
                w.visit(next)?;
            }
            Ok(())
        }

        #[exit(Root, Spot)]
        fn leave(&mut self, w: &mut Walk) -> Result {
            self.log.push(format!("-{}", name_of(w.here())));
            Ok(())
        }

        #[exit]
        fn end(&mut self, w: &mut Walk) -> Result {
            self.log.push(format!("end@{}", name_of(w.here())));
            Ok(())
        }
    }

    fn name_of(node: &NodeRef) -> String {
        match node.cast::<Spot>() {
            Ok(spot) => spot.into_inner().name,
            Err(_) => "root".to_owned(),
        }
    }

    /// `root -> {a, b}`, `a -> a1`, `b -> b1`.
    fn tree() -> Ctx {
        let cx = Ctx::new(Rc::new(MemoryGraph::new()));
        let root = cx.root();
        let a = cx.attach(&root, Spot::new("a")).expect("a");
        let b = cx.attach(&root, Spot::new("b")).expect("b");
        cx.attach(&a, Spot::new("a1")).expect("a1");
        cx.attach(&b, Spot::new("b1")).expect("b1");
        cx
    }

    fn trace(cx: &Ctx, walker: Trace) -> String {
        cx.spawn(walker, cx.root()).expect("walk").log.join(" ")
    }

    #[test]
    fn entries_follow_the_queue_and_exits_run_in_reverse() {
        let cx = tree();
        assert_eq!(
            trace(&cx, Trace::new()),
            "begin@root +root +a +b +a1 +b1 -b1 -a1 -b -a -root end@b1"
        );
    }

    #[test]
    fn disengage_stops_at_once_and_skips_every_exit() {
        let cx = tree();
        let mut walker = Trace::new();
        walker.stop_at = "a".into();
        assert_eq!(trace(&cx, walker), "begin@root +root +a");
    }

    #[test]
    fn visit_first_goes_before_the_rest_of_the_queue() {
        let cx = tree();
        let mut walker = Trace::new();
        walker.front = true;
        assert_eq!(
            trace(&cx, walker),
            "begin@root +root +a +a1 +b +b1 -b1 -b -a1 -a -root end@b1"
        );
    }

    #[test]
    fn a_cycle_is_revisited_until_the_walker_disengages() {
        let cx = Ctx::new(Rc::new(MemoryGraph::new()));
        let a = cx.attach(&cx.root(), Spot::new("a")).expect("a");
        let b = cx.attach(&a, Spot::new("b")).expect("b");
        cx.connect(&b, &a).expect("b -> a");
        let mut walker = Trace::new();
        walker.max_entries = 6;
        assert_eq!(trace(&cx, walker), "begin@root +root +a +b +a +b +a");
    }

    #[test]
    fn spawning_on_a_node_without_matching_abilities_runs_only_untyped_ones() {
        let cx = Ctx::new(Rc::new(MemoryGraph::new()));
        let other = cx.create(Spot::new("x")).expect("node");
        let walker = cx.spawn(Quiet::new(), &other).expect("walk");
        assert_eq!(walker.seen, vec!["begin", "end"]);
    }

    #[walker]
    struct Quiet {
        #[jac(default = [])]
        seen: Vec<String>,
    }

    #[walker]
    impl Quiet {
        #[entry]
        fn begin(&mut self, _: &mut Walk) -> Result {
            self.seen.push("begin".into());
            Ok(())
        }

        #[entry(Root)]
        fn never(&mut self, _: &mut Walk) -> Result {
            self.seen.push("root".into());
            Ok(())
        }

        #[exit]
        fn end(&mut self, _: &mut Walk) -> Result {
            self.seen.push("end".into());
            Ok(())
        }
    }

    /// Spawns [`Inner`] on every Spot next to root and sums what they counted.
    #[walker]
    struct Outer {
        #[jac(default = 0)]
        total: i64,
    }

    #[walker]
    impl Outer {
        #[entry(Root)]
        fn fan_out(&mut self, w: &mut Walk) -> Result {
            w.report("outer")?;
            for spot in w.neighbors(w.here()).of::<Spot>()? {
                self.total += w.spawn(Inner::new(), &spot)?.count;
            }
            w.report(self.total)
        }
    }

    #[walker]
    struct Inner {
        #[jac(default = 0)]
        count: i64,
    }

    #[walker]
    impl Inner {
        #[entry(Spot)]
        fn count(&mut self, w: &mut Walk) -> Result {
            self.count += 1;
            w.report(format!("inner@{}", name_of(w.here())))
        }
    }

    #[test]
    fn inner_walker_reports_join_the_outer_ones_and_its_fields_come_back() {
        let cx = tree();
        let outer = cx.spawn(Outer::new(), cx.root()).expect("walk");
        assert_eq!(outer.total, 2);
        assert_eq!(
            cx.reports(),
            vec![json!("outer"), json!("inner@a"), json!("inner@b"), json!(2)]
        );
    }

    /// Marks each Spot it visits, then deletes b before it is reached.
    #[walker]
    struct Marker {}

    #[walker]
    impl Marker {
        #[entry(Root)]
        fn start(&mut self, w: &mut Walk) -> Result {
            let spots = w.neighbors(w.here()).of::<Spot>()?;
            w.visit(&spots)?;
            w.visit(&spots)?;
            Ok(())
        }

        #[entry(Spot)]
        fn mark(&mut self, w: &mut Walk) -> Result {
            let mut spot = w.here_as::<Spot>()?;
            w.report(&spot.name)?;
            if spot.name == "a" {
                let b = w
                    .neighbors(&w.root())
                    .nodes()?
                    .into_iter()
                    .find(|node| name_of(node) == "b");
                w.delete(&b.expect("b exists"))?;
            }
            spot.name.push('*');
            w.save(&spot)
        }
    }

    #[test]
    fn queued_visits_see_saved_fields_and_skip_deleted_nodes() {
        let cx = tree();
        cx.spawn(Marker {}, cx.root()).expect("walk");
        // a, (b deleted), a again with the name saved on the first visit, (b deleted).
        assert_eq!(cx.reports(), vec![json!("a"), json!("a*")]);
    }

    #[test]
    fn an_error_in_an_ability_stops_the_walk() {
        let cx = tree();
        let error = cx.spawn(Failing {}, cx.root()).expect_err("raises");
        assert_eq!(error.to_string(), "ValueError: boom!");
        assert!(cx.reports().is_empty());
    }

    #[walker]
    struct Failing {}

    #[walker]
    impl Failing {
        #[entry(Root)]
        fn fail(&mut self, _: &mut Walk) -> Result {
            Err(raise!("ValueError", "boom!"))
        }

        #[exit(Root)]
        fn unreachable(&mut self, w: &mut Walk) -> Result {
            w.report("exit ran")
        }
    }
}
