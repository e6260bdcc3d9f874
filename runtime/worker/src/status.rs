//! Runtime status of connectors and tasks (what `GET /connectors/{c}/status` shows) and the
//! active topics of each connector (KIP-558). Standalone keeps them in memory, as Connect does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use crate::herder::{State, TaskId};

/// One status entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// State.
    pub state: State,
    /// Error chain when FAILED.
    pub trace: Option<String>,
    /// Worker that owns it.
    pub worker_id: String,
}

#[derive(Debug, Default)]
struct Statuses {
    connectors: HashMap<String, Status>,
    tasks: BTreeMap<TaskId, Status>,
    topics: HashMap<String, BTreeSet<String>>,
}

/// The status view of this worker.
#[derive(Debug)]
pub struct StatusStore {
    worker_id: String,
    inner: Mutex<Statuses>,
}

impl StatusStore {
    /// A store for the worker `worker_id`.
    pub fn new(worker_id: String) -> Self {
        StatusStore {
            worker_id,
            inner: Mutex::default(),
        }
    }
    /// This worker's id.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }
    fn status(&self, state: State, trace: Option<String>) -> Status {
        Status {
            state,
            trace,
            worker_id: self.worker_id.clone(),
        }
    }
    /// Records a connector's state.
    pub fn put_connector(&self, name: &str, state: State, trace: Option<String>) {
        let s = self.status(state, trace);
        self.inner
            .lock()
            .unwrap()
            .connectors
            .insert(name.to_owned(), s);
    }
    /// Records a task's state.
    pub fn put_task(&self, id: &TaskId, state: State, trace: Option<String>) {
        let s = self.status(state, trace);
        self.inner.lock().unwrap().tasks.insert(id.clone(), s);
    }
    /// A connector's state.
    pub fn connector(&self, name: &str) -> Option<Status> {
        self.inner.lock().unwrap().connectors.get(name).cloned()
    }
    /// A task's state.
    pub fn task(&self, id: &TaskId) -> Option<Status> {
        self.inner.lock().unwrap().tasks.get(id).cloned()
    }
    /// States of a connector's tasks, sorted by task number.
    pub fn tasks_of(&self, name: &str) -> Vec<(u32, Status)> {
        self.inner
            .lock()
            .unwrap()
            .tasks
            .iter()
            .filter(|(id, _)| id.connector == name)
            .map(|(id, s)| (id.task, s.clone()))
            .collect()
    }
    /// Forgets a task.
    pub fn remove_task(&self, id: &TaskId) {
        self.inner.lock().unwrap().tasks.remove(id);
    }
    /// Forgets the tasks of a connector.
    pub fn remove_tasks_of(&self, name: &str) {
        self.inner
            .lock()
            .unwrap()
            .tasks
            .retain(|id, _| id.connector != name);
    }
    /// Forgets a connector, its tasks and its topics.
    pub fn remove_connector(&self, name: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.connectors.remove(name);
        inner.tasks.retain(|id, _| id.connector != name);
        inner.topics.remove(name);
    }
    /// Notes that `connector` used `topic`.
    pub fn add_active_topic(&self, connector: &str, topic: &str) {
        let mut inner = self.inner.lock().unwrap();
        let set = inner.topics.entry(connector.to_owned()).or_default();
        if !set.contains(topic) {
            set.insert(topic.to_owned());
        }
    }
    /// Topics `connector` used, sorted.
    pub fn active_topics(&self, connector: &str) -> Vec<String> {
        self.inner
            .lock()
            .unwrap()
            .topics
            .get(connector)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
    /// Forgets `connector`'s active topics.
    pub fn reset_active_topics(&self, connector: &str) {
        self.inner.lock().unwrap().topics.remove(connector);
    }
}
