//! httplib's debug trace ("send:", "reply:", "header:" lines on stderr) and typed debug
//! events for a caller's callback, as libcurl's CURLOPT_DEBUGFUNCTION gives them.

use std::io::Write;
use std::sync::Mutex;

use crate::error::escape_bytes;

/// What a debug event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum DebugKind {
    /// Informational text from the library ("connected to ...").
    Text = 0,
    /// The status line or a header line received.
    HeaderIn = 1,
    /// The request head sent.
    HeaderOut = 2,
    /// Body bytes received (after de-framing).
    DataIn = 3,
    /// Body bytes sent.
    DataOut = 4,
}

/// A caller's debug callback.
pub type DebugCallback = Box<dyn FnMut(DebugKind, &[u8]) + Send>;

/// Where debug events go: the callback when there is one, else httplib's trace on stderr.
pub struct DebugSink {
    level: i32,
    callback: Mutex<Option<DebugCallback>>,
}

impl DebugSink {
    pub fn new(level: i32, callback: Option<DebugCallback>) -> Option<DebugSink> {
        if level <= 0 && callback.is_none() {
            return None;
        }
        Some(DebugSink {
            level,
            callback: Mutex::new(callback),
        })
    }

    /// Reports one event.
    pub fn event(&self, kind: DebugKind, data: &[u8]) {
        let mut cb = self.callback.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cb) = cb.as_mut() {
            cb(kind, data);
            return;
        }
        if self.level <= 0 {
            return;
        }
        let line = match kind {
            DebugKind::Text => format!("{}\n", String::from_utf8_lossy(data)),
            DebugKind::HeaderOut => format!("send: b'{}'\n", escape_bytes(data, 4096)),
            DebugKind::DataOut => format!("send: b'{}'\n", escape_bytes(data, 256)),
            DebugKind::HeaderIn => {
                let text = escape_bytes(trim_eol(data), 4096);
                if data.starts_with(b"HTTP/") {
                    format!("reply: '{text}\\r\\n'\n")
                } else {
                    format!("header: {text}\n")
                }
            }
            DebugKind::DataIn => {
                if self.level < 2 {
                    return;
                }
                format!("body: {} bytes\n", data.len())
            }
        };
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

fn trim_eol(mut d: &[u8]) -> &[u8] {
    while let [rest @ .., b'\r' | b'\n'] = d {
        d = rest;
    }
    d
}
