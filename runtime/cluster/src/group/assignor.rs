//! The leader's assignment of Connector instances and tasks to workers (COMPAT §4, KIP-415).
//!
//! Incremental cooperative ([`assign`], protocols v1/v2): work a member already runs stays
//! with it unless balance requires moving it. Connectors and tasks are balanced separately by
//! count. A round that must move work only *revokes* it; the members that lost work rejoin and
//! the follow-up round hands it out, so nothing ever runs on two workers at once. Work of a
//! member that disappeared is held for up to `scheduled.rebalance.max.delay.ms` (it may come
//! back, e.g. a rolling restart) and reassigned once the delay has passed.
//!
//! On the wire a v1/v2 assignment lists only what is *added* and what is *revoked*; the
//! member's running set becomes `running − revoked + added` ([`MemberPlan`]).
//!
//! Eager ([`assign_eager`], v0): everything is revoked at each rebalance and handed out from
//! scratch round-robin.
//!
//! Pure functions of their inputs (the clock is an argument): the herder supplies the state
//! kept between rounds ([`AssignorState`]).

use std::collections::{BTreeMap, BTreeSet};

use ferry_worker::herder::TaskId;

use crate::group::protocol::ConnectorsAndTasks;

/// What the leader knows about the cluster in one round.
#[derive(Debug, Clone, Copy)]
pub struct AssignorInput<'a> {
    /// Each member's id and what it runs now (its metadata's `allocation`).
    pub members: &'a BTreeMap<String, ConnectorsAndTasks>,
    /// Every configured connector and its committed task count.
    pub connectors: &'a BTreeMap<String, u32>,
    /// The current time, in milliseconds.
    pub now_ms: i64,
    /// `scheduled.rebalance.max.delay.ms`.
    pub max_delay_ms: i64,
}

/// What the leader keeps from one round to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignorState {
    /// The previous generation's full assignment, member → work (including held work of
    /// departed members). Empty for a new leader: lost work is then only found as unassigned.
    pub previous: BTreeMap<String, Work>,
    /// When the held work of departed members is to be reassigned.
    pub scheduled_rebalance_ms: Option<i64>,
}

/// One member's work as sets (ordered, so results are deterministic).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Work {
    /// Connector instances.
    pub connectors: BTreeSet<String>,
    /// Tasks.
    pub tasks: BTreeSet<TaskId>,
}

impl Work {
    fn from_wire(c: &ConnectorsAndTasks) -> Self {
        Work {
            connectors: c.connectors.iter().cloned().collect(),
            tasks: c.tasks.iter().cloned().collect(),
        }
    }

    /// As the wire's ordered lists.
    pub fn to_wire(&self) -> ConnectorsAndTasks {
        ConnectorsAndTasks {
            connectors: self.connectors.iter().cloned().collect(),
            tasks: self.tasks.iter().cloned().collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }
}

/// One member's share of a round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberPlan {
    /// Newly assigned work (the wire's `assignment`).
    pub added: ConnectorsAndTasks,
    /// Work to stop (the wire's `revoked`); a member with revocations rejoins once stopped.
    pub revoked: ConnectorsAndTasks,
    /// What the member runs after applying both.
    pub running: ConnectorsAndTasks,
}

/// The result of one round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignorOutput {
    /// Per member id.
    pub members: BTreeMap<String, MemberPlan>,
    /// Milliseconds until held work of departed members is reassigned (the wire's `delay`);
    /// 0 when nothing is held.
    pub delay_ms: i32,
}

/// Every configured connector and task.
fn configured_work(connectors: &BTreeMap<String, u32>) -> Work {
    Work {
        connectors: connectors.keys().cloned().collect(),
        tasks: connectors
            .iter()
            .flat_map(|(c, n)| {
                (0..*n).map(move |task| TaskId {
                    connector: c.clone(),
                    task,
                })
            })
            .collect(),
    }
}

/// One incremental cooperative round (protocols v1/v2); updates `state` for the next round.
pub fn assign(input: AssignorInput<'_>, state: &mut AssignorState) -> AssignorOutput {
    let configured = configured_work(input.connectors);
    let current: BTreeMap<&str, Work> = input
        .members
        .iter()
        .map(|(m, c)| (m.as_str(), Work::from_wire(c)))
        .collect();

    // Work that is no longer configured is revoked from whoever runs it; the rest is kept.
    let mut kept: BTreeMap<&str, Work> = BTreeMap::new();
    let mut revoked: BTreeMap<&str, Work> = BTreeMap::new();
    let mut running_anywhere = Work::default();
    for (member, work) in &current {
        let (keep_c, drop_c): (BTreeSet<_>, BTreeSet<_>) =
            work.connectors.iter().cloned().partition(|c| {
                configured.connectors.contains(c) && !running_anywhere.connectors.contains(c)
            });
        let (keep_t, drop_t): (BTreeSet<_>, BTreeSet<_>) = work
            .tasks
            .iter()
            .cloned()
            .partition(|t| configured.tasks.contains(t) && !running_anywhere.tasks.contains(t));
        running_anywhere.connectors.extend(keep_c.iter().cloned());
        running_anywhere.tasks.extend(keep_t.iter().cloned());
        kept.insert(
            member,
            Work {
                connectors: keep_c,
                tasks: keep_t,
            },
        );
        revoked.insert(
            member,
            Work {
                connectors: drop_c,
                tasks: drop_t,
            },
        );
    }

    // Work the previous generation gave to members that are gone and nobody runs now.
    let mut lost = Work::default();
    let mut lost_by_member: BTreeMap<String, Work> = BTreeMap::new();
    for (member, work) in &state.previous {
        if current.contains_key(member.as_str()) {
            continue;
        }
        let mine = Work {
            connectors: work
                .connectors
                .iter()
                .filter(|c| {
                    configured.connectors.contains(*c) && !running_anywhere.connectors.contains(*c)
                })
                .cloned()
                .collect(),
            tasks: work
                .tasks
                .iter()
                .filter(|t| configured.tasks.contains(*t) && !running_anywhere.tasks.contains(*t))
                .cloned()
                .collect(),
        };
        if !mine.is_empty() {
            lost.connectors.extend(mine.connectors.iter().cloned());
            lost.tasks.extend(mine.tasks.iter().cloned());
            lost_by_member.insert(member.clone(), mine);
        }
    }
    let mut delay_ms = 0;
    let hold = if lost.is_empty() || input.max_delay_ms <= 0 {
        state.scheduled_rebalance_ms = None;
        false
    } else {
        let due = *state
            .scheduled_rebalance_ms
            .get_or_insert(input.now_ms + input.max_delay_ms);
        if input.now_ms < due {
            delay_ms = i32::try_from(due - input.now_ms).unwrap_or(i32::MAX);
            true
        } else {
            state.scheduled_rebalance_ms = None;
            false
        }
    };

    // Unassigned = configured − running − held.
    let mut taken = running_anywhere;
    if hold {
        taken.connectors.extend(lost.connectors.iter().cloned());
        taken.tasks.extend(lost.tasks.iter().cloned());
    }
    let unassigned = Work {
        connectors: configured
            .connectors
            .difference(&taken.connectors)
            .cloned()
            .collect(),
        tasks: configured.tasks.difference(&taken.tasks).cloned().collect(),
    };

    let members: Vec<&str> = current.keys().copied().collect();
    let connectors = balance(
        &members,
        members.iter().map(|m| kept[m].connectors.clone()).collect(),
        unassigned.connectors,
    );
    let tasks = balance(
        &members,
        members.iter().map(|m| kept[m].tasks.clone()).collect(),
        unassigned.tasks,
    );

    let mut out = AssignorOutput {
        members: BTreeMap::new(),
        delay_ms,
    };
    let mut next_previous = BTreeMap::new();
    for (i, member) in members.iter().enumerate() {
        let mut revoked_here = revoked.remove(member).unwrap_or_default();
        revoked_here
            .connectors
            .extend(connectors.revoked[i].iter().cloned());
        revoked_here.tasks.extend(tasks.revoked[i].iter().cloned());
        let added = Work {
            connectors: connectors.added[i].clone(),
            tasks: tasks.added[i].clone(),
        };
        let running = Work {
            connectors: connectors.after[i].clone(),
            tasks: tasks.after[i].clone(),
        };
        out.members.insert(
            (*member).to_owned(),
            MemberPlan {
                added: added.to_wire(),
                revoked: revoked_here.to_wire(),
                running: running.to_wire(),
            },
        );
        next_previous.insert((*member).to_owned(), running);
    }
    if hold {
        next_previous.extend(lost_by_member);
    }
    state.previous = next_previous;
    out
}

/// Per-member results of balancing one kind of work, indexed like the members.
struct Balanced<T> {
    added: Vec<BTreeSet<T>>,
    revoked: Vec<BTreeSet<T>>,
    after: Vec<BTreeSet<T>>,
}

/// Balances one kind of work by count with the fewest moves: the members holding the most get
/// the `total % n` larger shares; members above their share give up their last items (revoked,
/// not reassigned this round); unassigned items fill the members below their share.
fn balance<T: Ord + Clone>(
    members: &[&str],
    mut held: Vec<BTreeSet<T>>,
    unassigned: BTreeSet<T>,
) -> Balanced<T> {
    let n = members.len();
    let mut out = Balanced {
        added: vec![BTreeSet::new(); n],
        revoked: vec![BTreeSet::new(); n],
        after: Vec::new(),
    };
    if n == 0 {
        return out;
    }
    let total: usize = held.iter().map(BTreeSet::len).sum::<usize>() + unassigned.len();
    let (base, extra) = (total / n, total % n);
    let mut by_load: Vec<usize> = (0..n).collect();
    by_load.sort_by(|&a, &b| {
        held[b]
            .len()
            .cmp(&held[a].len())
            .then(members[a].cmp(members[b]))
    });
    let mut target = vec![base; n];
    for &i in by_load.iter().take(extra) {
        target[i] += 1;
    }
    for i in 0..n {
        while held[i].len() > target[i] {
            let last = held[i].pop_last().expect("len > target ≥ 0");
            out.revoked[i].insert(last);
        }
    }
    for item in unassigned {
        // The member furthest below its share, then the least loaded; ties by member id.
        let i = (0..n)
            .min_by(|&a, &b| {
                let room = |i: usize| target[i] as isize - held[i].len() as isize;
                room(b)
                    .cmp(&room(a))
                    .then(held[a].len().cmp(&held[b].len()))
                    .then(members[a].cmp(members[b]))
            })
            .expect("n > 0");
        held[i].insert(item.clone());
        out.added[i].insert(item);
    }
    out.after = held;
    out
}

/// One eager round (protocol v0): every member stops everything and gets a fresh round-robin
/// share (connectors, then tasks, over members sorted by id). Returns member → work to run.
pub fn assign_eager(
    members: &[String],
    connectors: &BTreeMap<String, u32>,
) -> BTreeMap<String, ConnectorsAndTasks> {
    let mut sorted: Vec<&String> = members.iter().collect();
    sorted.sort();
    let mut out: BTreeMap<String, ConnectorsAndTasks> = sorted
        .iter()
        .map(|m| ((*m).clone(), ConnectorsAndTasks::default()))
        .collect();
    if sorted.is_empty() {
        return out;
    }
    let work = configured_work(connectors);
    for (i, c) in work.connectors.into_iter().enumerate() {
        let m = sorted[i % sorted.len()];
        out.get_mut(m).expect("member listed").connectors.push(c);
    }
    for (i, t) in work.tasks.into_iter().enumerate() {
        let m = sorted[i % sorted.len()];
        out.get_mut(m).expect("member listed").tasks.push(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `"a b; a-0 a-2"` → connectors a, b and tasks a-0, a-2 (tasks parsed on the last dash).
    fn work(spec: &str) -> ConnectorsAndTasks {
        let (connectors, tasks) = spec.split_once(';').unwrap_or((spec, ""));
        ConnectorsAndTasks {
            connectors: connectors.split_whitespace().map(str::to_owned).collect(),
            tasks: tasks
                .split_whitespace()
                .map(|t| {
                    let (c, n) = t.rsplit_once('-').unwrap();
                    TaskId {
                        connector: c.into(),
                        task: n.parse().unwrap(),
                    }
                })
                .collect(),
        }
    }

    fn members(specs: &[(&str, &str)]) -> BTreeMap<String, ConnectorsAndTasks> {
        specs
            .iter()
            .map(|(m, s)| ((*m).to_owned(), work(s)))
            .collect()
    }

    fn connectors(specs: &[(&str, u32)]) -> BTreeMap<String, u32> {
        specs.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect()
    }

    /// Expected plans: member → (added, revoked, running).
    fn plans(specs: &[(&str, &str, &str, &str)]) -> BTreeMap<String, MemberPlan> {
        specs
            .iter()
            .map(|(m, added, revoked, running)| {
                (
                    (*m).to_owned(),
                    MemberPlan {
                        added: work(added),
                        revoked: work(revoked),
                        running: work(running),
                    },
                )
            })
            .collect()
    }

    /// Applies a round's plans as the members would, giving their next allocations.
    fn after(out: &AssignorOutput) -> BTreeMap<String, ConnectorsAndTasks> {
        out.members
            .iter()
            .map(|(m, p)| (m.clone(), p.running.clone()))
            .collect()
    }

    const THREE: &[(&str, u32)] = &[("a", 3), ("b", 2), ("c", 1)];

    /// Members' allocations, and the expected (member, added, revoked, running).
    type Case<'a> = (
        &'a [(&'a str, &'a str)],
        &'a [(&'a str, &'a str, &'a str, &'a str)],
    );

    #[test]
    fn balanced_spread_from_nothing() {
        let cases: &[Case<'_>] = &[
            (
                &[("m1", ""), ("m2", ""), ("m3", "")],
                &[
                    ("m1", "a; a-0 b-0", "", "a; a-0 b-0"),
                    ("m2", "b; a-1 b-1", "", "b; a-1 b-1"),
                    ("m3", "c; a-2 c-0", "", "c; a-2 c-0"),
                ],
            ),
            (
                &[("m1", ""), ("m2", "")],
                &[
                    ("m1", "a c; a-0 a-2 b-1", "", "a c; a-0 a-2 b-1"),
                    ("m2", "b; a-1 b-0 c-0", "", "b; a-1 b-0 c-0"),
                ],
            ),
            (
                &[("m1", "")],
                &[(
                    "m1",
                    "a b c; a-0 a-1 a-2 b-0 b-1 c-0",
                    "",
                    "a b c; a-0 a-1 a-2 b-0 b-1 c-0",
                )],
            ),
        ];
        for (m, expected) in cases {
            let mut state = AssignorState::default();
            let out = assign(
                AssignorInput {
                    members: &members(m),
                    connectors: &connectors(THREE),
                    now_ms: 0,
                    max_delay_ms: 300_000,
                },
                &mut state,
            );
            assert_eq!(out.members, plans(expected), "{m:?}");
            assert_eq!(out.delay_ms, 0);
        }
    }

    #[test]
    fn a_joining_member_gets_only_what_is_revoked_for_it() {
        let mut state = AssignorState::default();
        let round = |m: &BTreeMap<String, ConnectorsAndTasks>, state: &mut AssignorState| {
            assign(
                AssignorInput {
                    members: m,
                    connectors: &connectors(THREE),
                    now_ms: 0,
                    max_delay_ms: 300_000,
                },
                state,
            )
        };
        // Two members share the work; m3 joins empty-handed.
        let start = members(&[
            ("m1", "a b; a-0 a-1 a-2"),
            ("m2", "c; b-0 b-1 c-0"),
            ("m3", ""),
        ]);
        let first = round(&start, &mut state);
        assert_eq!(
            first.members,
            plans(&[
                ("m1", "", "b; a-2", "a; a-0 a-1"),
                ("m2", "", "; c-0", "c; b-0 b-1"),
                ("m3", "", "", ""),
            ]),
            "the first round only revokes"
        );
        let second = round(&after(&first), &mut state);
        assert_eq!(
            second.members,
            plans(&[
                ("m1", "", "", "a; a-0 a-1"),
                ("m2", "", "", "c; b-0 b-1"),
                ("m3", "b; a-2 c-0", "", "b; a-2 c-0"),
            ]),
            "the follow-up round hands the freed work to the new member; nothing else moves"
        );
        let third = round(&after(&second), &mut state);
        assert!(
            third
                .members
                .values()
                .all(|p| p.added.is_empty() && p.revoked.is_empty()),
            "a balanced group is left alone: {third:?}"
        );
    }

    #[test]
    fn departed_members_work_is_held_for_the_delay_then_reassigned() {
        let balanced = members(&[
            ("m1", "a; a-0 a-1"),
            ("m2", "c; b-0 b-1"),
            ("m3", "b; a-2 c-0"),
        ]);
        let mut state = AssignorState::default();
        let config = connectors(THREE);
        let input = |m, now_ms| AssignorInput {
            members: m,
            connectors: &config,
            now_ms,
            max_delay_ms: 300_000,
        };
        assign(input(&balanced, 0), &mut state);
        let survivors = members(&[("m1", "a; a-0 a-1"), ("m2", "c; b-0 b-1")]);
        let unchanged = plans(&[("m1", "", "", "a; a-0 a-1"), ("m2", "", "", "c; b-0 b-1")]);
        // (now, expected delay) while m3's work is held.
        for (now, delay) in [(1_000, 300_000), (101_000, 200_000), (300_999, 1)] {
            let out = assign(input(&survivors, now), &mut state);
            assert_eq!(out.members, unchanged, "at {now}");
            assert_eq!(out.delay_ms, delay, "at {now}");
        }
        let out = assign(input(&survivors, 301_000), &mut state);
        assert_eq!(out.delay_ms, 0);
        assert_eq!(
            out.members,
            plans(&[
                ("m1", "b; a-2", "", "a b; a-0 a-1 a-2"),
                ("m2", "; c-0", "", "c; b-0 b-1 c-0"),
            ])
        );
        assert_eq!(state.scheduled_rebalance_ms, None);
    }

    #[test]
    fn zero_delay_reassigns_at_once_and_a_returning_worker_cancels_the_delay() {
        let config = connectors(&[("a", 2)]);
        let two = members(&[("m1", "a; a-0"), ("m2", "; a-1")]);
        let one = members(&[("m1", "a; a-0")]);

        let mut state = AssignorState::default();
        assign(
            AssignorInput {
                members: &two,
                connectors: &config,
                now_ms: 0,
                max_delay_ms: 0,
            },
            &mut state,
        );
        let out = assign(
            AssignorInput {
                members: &one,
                connectors: &config,
                now_ms: 1,
                max_delay_ms: 0,
            },
            &mut state,
        );
        assert_eq!(out.members, plans(&[("m1", "; a-1", "", "a; a-0 a-1")]));
        assert_eq!(out.delay_ms, 0);

        let mut state = AssignorState::default();
        let input = |m, now_ms| AssignorInput {
            members: m,
            connectors: &config,
            now_ms,
            max_delay_ms: 1_000,
        };
        assign(input(&two, 0), &mut state);
        assert_eq!(assign(input(&one, 10), &mut state).delay_ms, 1_000);
        // m2 is back (still running a-1) before the delay ends: nothing is lost any more.
        let out = assign(input(&two, 20), &mut state);
        assert_eq!(out.delay_ms, 0);
        assert_eq!(state.scheduled_rebalance_ms, None);
        assert!(out
            .members
            .values()
            .all(|p| p.added.is_empty() && p.revoked.is_empty()));
    }

    #[test]
    fn deleted_and_shrunk_connectors_are_revoked_and_new_ones_spread() {
        let mut state = AssignorState::default();
        let out = assign(
            AssignorInput {
                members: &members(&[("m1", "gone a; gone-0 a-0 a-1 a-2"), ("m2", "; a-3")]),
                // `gone` deleted, `a` shrunk to 2 tasks, `new` created with 2 tasks.
                connectors: &connectors(&[("a", 2), ("new", 2)]),
                now_ms: 0,
                max_delay_ms: 300_000,
            },
            &mut state,
        );
        assert_eq!(
            out.members,
            plans(&[
                ("m1", "", "gone; a-2 gone-0", "a; a-0 a-1"),
                ("m2", "new; new-0 new-1", "; a-3", "new; new-0 new-1"),
            ])
        );
    }

    #[test]
    fn eager_round_robin() {
        let out = assign_eager(&["m2".into(), "m1".into()], &connectors(THREE));
        assert_eq!(out["m1"], work("a c; a-0 a-2 b-1"));
        assert_eq!(out["m2"], work("b; a-1 b-0 c-0"));
        assert!(assign_eager(&[], &connectors(THREE)).is_empty());
    }
}
