//! Fan-out of serialized events to every socket: each event is turned into JSON once and shared.

use std::sync::Arc;

use tokio::sync::broadcast;

/// How many events a slow client may fall behind before it gets a snapshot instead.
pub const HUB_CAPACITY: usize = 4096;

/// One serialized server message.
#[derive(Clone, Debug)]
pub struct Frame {
    pub seq: u64,
    pub json: FrameText,
}

/// A frame's JSON, made once and shared by every socket it goes to: cloning it counts a
/// reference. The board knows no transport: the socket layer hands these bytes to its own type
/// without copying them (they are the bytes of a `str`, see `AsRef<[u8]>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameText(Arc<str>);

impl FrameText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for FrameText {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for FrameText {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<String> for FrameText {
    fn from(json: String) -> FrameText {
        FrameText(json.into())
    }
}

#[derive(Debug)]
pub(super) struct Hub {
    sender: broadcast::Sender<Frame>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(HUB_CAPACITY)
    }
}

impl Hub {
    pub(super) fn new(capacity: usize) -> Hub {
        let (sender, _) = broadcast::channel(capacity);
        Hub { sender }
    }

    pub(super) fn publish(&self, frame: Frame) {
        // No subscriber is fine: nobody is watching.
        let _ = self.sender.send(frame);
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<Frame> {
        self.sender.subscribe()
    }

    pub(super) fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }
}
