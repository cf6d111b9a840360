//! A client too slow to keep up is sent a fresh snapshot instead of being dropped or slowing the
//! others (drives `ws::serve` through its Sink/Stream interface, with no network).

use std::sync::Arc;

use app::model::{Envelope, ServerEvent, TaskPath};
use axum::extract::ws::Message;
use execdash::{parse_task_file, FileState, Store, HUB_CAPACITY};
use futures_util::{sink, stream};
use tokio::sync::{mpsc, watch};

fn task(path: &str) -> FileState {
    let location = TaskPath::parse(path).unwrap();
    let task = parse_task_file(path, &location, b"id: x\n", None).unwrap();
    FileState::Task(Box::new(task))
}

/// `changes` new tasks in the inbox, one store change each.
fn create_tasks(store: &Store, changes: usize) {
    for i in 0..changes {
        let path = format!("inbox/t{i}.yaml");
        store.set(&path, task(&path));
    }
}

/// The next message the client took, parsed.
async fn next_message(received: &mut mpsc::UnboundedReceiver<String>) -> Envelope {
    serde_json::from_str(&received.recv().await.expect("a message")).unwrap()
}

/// A client that reads nothing until the gate opens (`gate.send(true)`), then reads everything.
fn gated_client(
    store: &Arc<Store>,
) -> (
    watch::Sender<bool>,
    mpsc::UnboundedReceiver<String>,
    tokio::task::JoinHandle<()>,
) {
    let (gate_open, gate) = watch::channel(false);
    let (delivered, received) = mpsc::unbounded_channel::<String>();
    let slow_sink = sink::unfold(
        (gate, delivered),
        |(mut gate, delivered), message: Message| async move {
            let _ = gate.wait_for(|open| *open).await;
            if let Message::Text(text) = message {
                let _ = delivered.send(text.to_string());
            }
            Ok::<_, axum::Error>((gate, delivered))
        },
    );
    let (shutdown_sender, shutdown) = watch::channel(false);
    let store = store.clone();
    let client = tokio::spawn(async move {
        execdash::serve_socket(
            Box::pin(slow_sink),
            stream::pending::<Result<Message, axum::Error>>(),
            None,
            store,
            shutdown,
            execdash::SocketCounters::default(),
        )
        .await;
        drop(shutdown_sender);
    });
    (gate_open, received, client)
}

#[tokio::test]
async fn a_client_behind_by_less_than_the_ring_gets_every_event_in_order() {
    let store = Arc::new(Store::new());
    let (gate_open, mut received, client) = gated_client(&store);
    tokio::task::yield_now().await;
    let changes = 300;
    create_tasks(&store, changes);
    gate_open.send(true).unwrap();
    let ack = next_message(&mut received).await;
    assert_eq!(ack.event.name(), "connection_ack");
    // Written in batches now, but each event once, in order, none folded into a snapshot.
    for expected in ack.seq + 1..=changes as u64 {
        let event = next_message(&mut received).await;
        assert_eq!((event.seq, event.event.name()), (expected, "task.created"));
    }
    client.abort();
}

#[tokio::test]
async fn a_lagging_client_gets_a_snapshot() {
    let store = Arc::new(Store::new());
    let (gate_open, mut received, client) = gated_client(&store);
    tokio::task::yield_now().await;
    let changes = HUB_CAPACITY + 500;
    create_tasks(&store, changes);
    gate_open.send(true).unwrap();
    let ack = next_message(&mut received).await;
    assert_eq!(ack.event.name(), "connection_ack");
    let next = next_message(&mut received).await;
    match next.event {
        ServerEvent::Snapshot { snapshot } => {
            assert_eq!(snapshot.seq, changes as u64);
            assert_eq!(snapshot.lanes["inbox"], changes);
            assert_eq!(snapshot.tasks.len(), app::model::LANE_WINDOW);
        }
        other => panic!("expected a snapshot after lagging, got {}", other.name()),
    }
    // After the snapshot it is live again: the next change arrives with the next seq.
    store.set("inbox/after.yaml", task("inbox/after.yaml"));
    let after = next_message(&mut received).await;
    assert_eq!(after.seq, changes as u64 + 1);
    assert_eq!(after.event.name(), "task.created");
    client.abort();
}

/// A client that stops reading is closed after the send timeout (10 s) with a close frame 1008
/// that says why — delivered when it reads again, behind what was pending, not dropped with the
/// connection (then it would see 1006). On paused time: the timeout's 10 s pass on tokio's clock,
/// not the machine's.
#[tokio::test(start_paused = true)]
async fn a_client_that_stopped_reading_gets_a_close_frame_when_it_reads_again() {
    let store = Arc::new(Store::new());
    let (gate_open, gate) = watch::channel(false);
    let (delivered, mut received) = mpsc::unbounded_channel::<Message>();
    let slow_sink = sink::unfold(
        (gate, delivered),
        |(mut gate, delivered), message: Message| async move {
            let _ = gate.wait_for(|open| *open).await;
            let _ = delivered.send(message);
            Ok::<_, axum::Error>((gate, delivered))
        },
    );
    let (_shutdown_sender, shutdown) = watch::channel(false);
    let serving = {
        let store = store.clone();
        tokio::spawn(execdash::serve_socket(
            Box::pin(slow_sink),
            stream::pending::<Result<Message, axum::Error>>(),
            None,
            store,
            shutdown,
            execdash::SocketCounters::default(),
        ))
    };
    // The ack waits at the closed gate; the client reads again 12 s later (tokio's clock). Not a
    // wait for anything: time passes on purpose, longer than the server's 10 s for a message to
    // be taken (`SEND_TIMEOUT`), so that the close shows it gave up on this client.
    tokio::time::sleep(std::time::Duration::from_secs(12)).await;
    gate_open.send(true).unwrap();
    serving.await.unwrap();
    let mut close = None;
    while let Ok(message) = received.try_recv() {
        if let Message::Close(frame) = message {
            close = frame;
        }
    }
    let close = close.expect("a close frame after what was pending");
    assert_eq!(close.code, 1008);
    assert!(close.reason.contains("not reading"), "{}", close.reason);
}
