//! Which client is ours, and whether it is still there to send to.
//!
//! sentry-core tells an integration nothing about its client: `setup` runs before the client
//! exists, and nothing runs when the client is bound to a hub or closed. So `setup` leaves a
//! mark in the options it is given ([`ClientMark`], one per setup, appended to
//! `options.integrations` after sentry-core took its own list, so it is never set up or asked
//! anything), and the binding recognizes its client as the one whose options hold that very
//! mark (an address compare: no downcast, no name lookup). A mark per setup, not the integration
//! instance, because options are `Clone`: two clients made from clones share the instance.
//! The client is looked for wherever it can be seen: the hub current at setup (where
//! `sentry::init` binds it), the main hub, or the current hub of a thread calling into the
//! integration (`collect_now` inside `Hub::run`, as with `Hub::new(Some(client))`). Only a weak
//! reference to the client is kept, so the binding never keeps a client alive; once found, the
//! client is ours until it is closed or dropped, whatever hub it is bound to. The mark is
//! dropped with the client's options, and ends the binding then.
//!
//! The binding also wakes whoever waits on it (the sampler) when the client is found or the
//! binding ends.
//!
//! A client without a DSN sends nothing; with the local view on, the integration still runs
//! rounds for it: a *local* binding, open from the start, with no client to send to. It ends
//! like any other (a newer setup, the client's options dropped) and with the last-round guard.

use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use sentry_core::{Client, ClientOptions, Hub, Integration};

use crate::sync::lock;

/// Left in a client's options by `setup`, so the client can be told from any other (see the
/// module docs). Listed in `client.options().integrations` as `runtime-metrics-client-mark`;
/// sentry-core never calls it.
pub(crate) struct ClientMark {
    binding: OnceLock<Weak<ClientBinding>>,
}

impl Integration for ClientMark {
    fn name(&self) -> &'static str {
        "runtime-metrics-client-mark"
    }
}

/// The client's options are dropped with the client: nothing can be sent to it any more.
impl Drop for ClientMark {
    fn drop(&mut self) {
        if let Some(binding) = self.binding.get().and_then(Weak::upgrade) {
            binding.end();
        }
    }
}

/// What the binding knows of its client.
pub(crate) enum Status {
    /// Not seen yet.
    Looking,
    /// Found, alive and open.
    Bound(Arc<Client>),
    /// A client without a DSN: rounds run for the local view, nothing is sent.
    Local,
    /// Closed, dropped, or the binding was ended (the integration was set up for a newer
    /// client, or the client's options, with the mark, were dropped).
    Gone,
}

/// The client one setup was for.
pub(crate) struct ClientBinding {
    /// Address of the [`ClientMark`] in the client's options.
    mark: usize,
    /// The hub current at setup.
    setup_hub: Weak<Hub>,
    state: Mutex<State>,
    changed: Condvar,
}

enum State {
    Looking,
    Found(Weak<Client>),
    Local,
    Ended,
}

impl ClientBinding {
    /// A binding for the client that will be created from `options` (called from `setup`, with
    /// the hub current then): leaves its mark in them.
    pub(crate) fn for_options(options: &mut ClientOptions, setup_hub: &Arc<Hub>) -> Arc<Self> {
        Self::with_state(options, setup_hub, State::Looking)
    }

    /// A local binding for the client without DSN that will be created from `options`: open at
    /// once, with nothing to send to.
    pub(crate) fn local(options: &mut ClientOptions, setup_hub: &Arc<Hub>) -> Arc<Self> {
        Self::with_state(options, setup_hub, State::Local)
    }

    fn with_state(options: &mut ClientOptions, setup_hub: &Arc<Hub>, state: State) -> Arc<Self> {
        let mark = Arc::new(ClientMark {
            binding: OnceLock::new(),
        });
        let binding = Arc::new(ClientBinding {
            mark: Arc::as_ptr(&mark).cast::<()>() as usize,
            setup_hub: Arc::downgrade(setup_hub),
            state: Mutex::new(state),
            changed: Condvar::new(),
        });
        let _ = mark.binding.set(Arc::downgrade(&binding));
        options.integrations.push(mark);
        binding
    }

    pub(crate) fn status(&self) -> Status {
        let found = match &*lock(&self.state) {
            State::Looking => return Status::Looking,
            State::Local => return Status::Local,
            State::Ended => return Status::Gone,
            State::Found(client) => client.upgrade(),
        };
        // Checked (and possibly dropped) outside the lock: dropping the last reference drops
        // the client, whose integration instance then ends this binding.
        match found {
            Some(client) if client.is_enabled() => Status::Bound(client),
            _ => Status::Gone,
        }
    }

    /// Whether the client has not been seen yet.
    pub(crate) fn is_looking(&self) -> bool {
        matches!(*lock(&self.state), State::Looking)
    }

    /// The client to send to, if found and still open.
    pub(crate) fn client(&self) -> Option<Arc<Client>> {
        match self.status() {
            Status::Bound(client) => Some(client),
            Status::Looking | Status::Local | Status::Gone => None,
        }
    }

    /// Whether rounds are run for it: its client is open, or it is local.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.status(), Status::Bound(_) | Status::Local)
    }

    /// Whether it is local: rounds are run for the local view, and nothing is sent.
    pub(crate) fn is_local(&self) -> bool {
        matches!(*lock(&self.state), State::Local)
    }

    /// Takes the client of `hub` as ours if it carries our mark (one found closed is gone for
    /// good: the status says so). Returns whether the client is known now.
    pub(crate) fn adopt(&self, hub: &Hub) -> bool {
        // Read before our lock is taken: the hub's lock is never taken under ours. The strong
        // reference keeps the client, and with it the mark compared, alive.
        let client = hub.client();
        let mut state = lock(&self.state);
        if let State::Looking = *state
            && let Some(client) = client.as_ref().filter(|c| self.carries_us(c))
        {
            // Checked after the client was read: the binding ends before its mark is freed, so a
            // mark found at our address now is ours, not a new one in its place.
            *state = State::Found(Arc::downgrade(client));
            self.changed.notify_all();
        }
        let known = !matches!(*state, State::Looking);
        drop(state);
        drop(client);
        known
    }

    /// Looks for the client where `sentry::init` and manual binding put it: the hub current at
    /// setup, and the main hub.
    pub(crate) fn adopt_from_known_hubs(&self) -> bool {
        if let Some(hub) = self.setup_hub.upgrade()
            && self.adopt(&hub)
        {
            return true;
        }
        self.adopt(&Hub::main())
    }

    /// Ends the binding: nothing is sent to its client any more.
    pub(crate) fn end(&self) {
        *lock(&self.state) = State::Ended;
        self.changed.notify_all();
    }

    /// Waits up to `timeout`, returning early when the client is found or the binding ends.
    pub(crate) fn wait(&self, timeout: Duration) {
        let state = lock(&self.state);
        let looking = match *state {
            State::Looking => true,
            State::Found(_) | State::Local => false,
            State::Ended => return,
        };
        let _ = self
            .changed
            .wait_timeout_while(state, timeout, |state| match state {
                State::Looking => looking,
                State::Found(_) | State::Local => !looking,
                State::Ended => false,
            })
            .unwrap_or_else(PoisonError::into_inner);
    }

    fn carries_us(&self, client: &Client) -> bool {
        client
            .options()
            .integrations
            .iter()
            .any(|integration| Arc::as_ptr(integration).cast::<()>() as usize == self.mark)
    }
}
