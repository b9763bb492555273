//! TLS session resumption: one OpenSSL context per set of TLS settings, shared by every
//! connection made under them, and a store of the sessions those contexts hand out, keyed like
//! the pool (a session is never offered under other TLS settings, to another host or port, or
//! through another proxy).
//!
//! OpenSSL calls a context's new-session callback when a session can be saved: at the end of a
//! TLS 1.2 handshake, and for TLS 1.3 whenever a ticket arrives after the handshake. The
//! callback finds the connection's key in the `Ssl`'s ex-data and stores the session. Before
//! a handshake the newest session for the key is taken out (TLS 1.3 tickets are single use)
//! and offered. At most 32 keys × 2 sessions are kept, the least recently used key evicted
//! first. 0-RTT (early data) is never used.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslContext, SslSession, SslSessionCacheMode, SslVersion};

use super::pool::{PoolKey, TlsKey};
use crate::error::{Error, ErrorKind, Result};
use crate::transport::tls::{self, TlsOptions, TlsPrepare};

const MAX_PEERS: usize = 32;
const PER_PEER: usize = 2;

fn key_index() -> Result<Index<Ssl, Arc<PoolKey>>> {
    static INDEX: OnceLock<std::result::Result<Index<Ssl, Arc<PoolKey>>, String>> = OnceLock::new();
    INDEX
        .get_or_init(|| Ssl::new_ex_index().map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| Error::new(ErrorKind::Tls, format!("an OpenSSL ex-data index: {e}")))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The saved sessions, least recently used key first.
#[derive(Default)]
pub(crate) struct Store {
    peers: Mutex<Vec<(Arc<PoolKey>, VecDeque<SslSession>)>>,
}

impl Store {
    fn put(&self, key: &Arc<PoolKey>, session: SslSession) {
        let mut peers = lock(&self.peers);
        let mut entry = match peers.iter().position(|(k, _)| k == key) {
            Some(i) => peers.remove(i),
            None => (key.clone(), VecDeque::new()),
        };
        entry.1.push_back(session);
        while entry.1.len() > PER_PEER {
            entry.1.pop_front();
        }
        peers.push(entry);
        while peers.len() > MAX_PEERS {
            peers.remove(0);
        }
    }

    /// Puts a session taken out back as the oldest of its key (a newer one is offered first).
    fn put_back(&self, key: &Arc<PoolKey>, session: SslSession) {
        let mut peers = lock(&self.peers);
        match peers.iter_mut().find(|(k, _)| k == key) {
            Some((_, q)) if q.len() < PER_PEER => q.push_front(session),
            Some(_) => {}
            None => {
                let mut q = VecDeque::new();
                q.push_back(session);
                peers.push((key.clone(), q));
                while peers.len() > MAX_PEERS {
                    peers.remove(0);
                }
            }
        }
    }

    /// Takes the newest session for `key` out of the store.
    fn take(&self, key: &PoolKey) -> Option<SslSession> {
        let mut peers = lock(&self.peers);
        let i = peers.iter().position(|(k, _)| **k == *key)?;
        let s = peers[i].1.pop_back();
        if peers[i].1.is_empty() {
            peers.remove(i);
        }
        s
    }

    /// Sessions kept (tests).
    pub fn len(&self) -> usize {
        lock(&self.peers).iter().map(|(_, q)| q.len()).sum()
    }

    pub fn clear(&self) {
        lock(&self.peers).clear();
    }
}

/// The contexts of a client, one per set of TLS settings, and their sessions.
#[derive(Default)]
pub(crate) struct Sessions {
    contexts: Mutex<HashMap<TlsKey, SslContext>>,
    pub store: Arc<Store>,
}

impl Sessions {
    /// The shared context for `opts`, made on first use with the new-session callback.
    fn context(&self, opts: &TlsOptions) -> Result<SslContext> {
        let key = TlsKey::of(opts);
        if let Some(c) = lock(&self.contexts).get(&key) {
            return Ok(c.clone());
        }
        // Built outside the lock: loading the trust store reads files.
        let mut b = tls::context_builder(opts)?;
        b.set_session_cache_mode(SslSessionCacheMode::CLIENT | SslSessionCacheMode::NO_INTERNAL);
        let store = self.store.clone();
        let index = key_index()?;
        b.set_new_session_callback(move |ssl, session| {
            if let Some(k) = ssl.ex_data(index) {
                store.put(k, session);
            }
        });
        let built = b.build();
        Ok(lock(&self.contexts).entry(key).or_insert(built).clone())
    }

    /// The context and the pre-handshake hook for a connection with pool key `key`: the hook
    /// tags the session with the key and, when `resume`, offers a saved session.
    pub fn config(
        &self,
        opts: &TlsOptions,
        key: &Arc<PoolKey>,
        resume: bool,
    ) -> Result<(SslContext, TlsPrepare)> {
        let ctx = self.context(opts)?;
        let index = key_index()?;
        let (store, key, origin) = (self.store.clone(), key.clone(), ctx.clone());
        let prepare: TlsPrepare = Arc::new(move |ssl| {
            if resume {
                // Tagged, the session is saved by the context's callback.
                ssl.set_ex_data(index, key.clone());
                if let Some(s) = store.take(&key) {
                    crate::ffi::tls_session::offer_session(ssl, &s, &origin)?;
                    // A TLS 1.2 session may be resumed again and again (a resumption brings no
                    // new one); a TLS 1.3 ticket is used once.
                    if s.protocol_version() != SslVersion::TLS1_3 {
                        store.put_back(&key, s);
                    }
                }
            }
            Ok(())
        });
        Ok((ctx, prepare))
    }
}
