//! Reading transcripts: what was written since the last read, file by file, from the offset
//! kept for it. A file whose identity (device and inode) changed, or that got shorter, was
//! rewritten: it is read again from its start (ids make that harmless). A last line without its
//! newline is still being written: it is read once complete. Memory stays bounded whatever the
//! files' sizes: they are read in chunks, and calls are stored in batches.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::codex::Session;
use super::{claude, codex, AgentHomes, Line};
use crate::invocations::PriceTable;
use crate::telemetry::{IngestError, Invocation, Telemetry, MAX_BATCH};

/// How much of a file is read at once.
const CHUNK: usize = 4 * 1024 * 1024;
/// Calls stored in one transaction.
const BATCH: usize = if MAX_BATCH < 5_000 { MAX_BATCH } else { 5_000 };
/// Bad lines reported by name (the rest are counted).
const BAD_LINES_SHOWN: usize = 20;
/// While following, the last line of a file written this recently waits for the next read: it
/// may be an early copy of a message whose later copies (with its final usage) are on their way.
pub(super) const SETTLE: Duration = Duration::from_millis(120);

/// Where reading a file got to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Offset {
    dev: u64,
    ino: u64,
    read: u64,
    /// What a Codex session file said before `read`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    codex: Option<Session>,
}

/// What a read found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ReadReport {
    pub(crate) files: u64,
    pub(crate) bytes: u64,
    pub(crate) calls: u64,
    pub(crate) inserted: u64,
    /// Calls already stored (read before, or received over OpenTelemetry).
    pub(crate) duplicates: u64,
    pub(crate) bad_lines: u64,
    /// The first bad lines: `path:line: why`.
    pub(crate) bad: Vec<String>,
    /// Files whose just-written last line waits for the next read.
    #[serde(skip)]
    pub(crate) held: Vec<PathBuf>,
}

/// Why reading stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("cannot store the calls: {0}")]
    Store(#[from] IngestError),
}

/// The transcripts of the sessions that ran in one repository, and how far each was read.
pub(crate) struct Transcripts {
    repo: PathBuf,
    homes: AgentHomes,
    prices: Arc<PriceTable>,
    offsets: HashMap<PathBuf, Offset>,
    /// Where the offsets are kept between runs (`None`: not kept).
    state: Option<PathBuf>,
    /// Fills in what the calls do not say (their task, from the board) before they are stored.
    attribute: Option<Attribute>,
}

/// See [`Transcripts::attributing`].
type Attribute = Box<dyn Fn(&mut [Invocation]) + Send + Sync>;

impl Transcripts {
    /// The transcripts in the agents' `homes` of sessions in `repo`; offsets kept in `state`.
    pub(crate) fn new(
        repo: &Path,
        homes: AgentHomes,
        prices: Arc<PriceTable>,
        state: Option<PathBuf>,
    ) -> Transcripts {
        let repo = std::fs::canonicalize(repo).unwrap_or_else(|_| repo.to_path_buf());
        let offsets = state
            .as_deref()
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Transcripts {
            repo,
            homes,
            prices,
            offsets,
            state,
            attribute: None,
        }
    }

    /// Calls are passed to `attribute` before they are stored (the server infers their task
    /// from the board).
    pub(crate) fn attributing(
        mut self,
        attribute: impl Fn(&mut [Invocation]) + Send + Sync + 'static,
    ) -> Transcripts {
        self.attribute = Some(Box::new(attribute));
        self
    }

    /// The folders to watch: each Claude config folder's `projects` (a new project folder) and
    /// the repository's project folders, with what is under them; each Codex home's `sessions`
    /// with what is under it (a day's folder is made when its first session starts).
    pub(crate) fn folders(&self) -> Vec<(PathBuf, notify::RecursiveMode)> {
        let mut folders = Vec::new();
        for config_dir in &self.homes.claude {
            // The nearest folder there is: Claude Code may make its folders later.
            folders.extend(nearest(&config_dir.join("projects")));
            for dir in claude::project_dirs(config_dir, &self.repo) {
                folders.push((dir, notify::RecursiveMode::Recursive));
            }
        }
        for home in &self.homes.codex {
            let sessions = home.join("sessions");
            if sessions.is_dir() {
                folders.push((sessions, notify::RecursiveMode::Recursive));
            } else {
                folders.extend(nearest(&sessions));
            }
        }
        folders
    }

    /// Every transcript file of the repository's sessions (sub-agents' included) and every
    /// Codex session file (which says where it ran only inside), sorted.
    pub(crate) fn files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for config_dir in &self.homes.claude {
            for dir in claude::project_dirs(config_dir, &self.repo) {
                collect_jsonl(&dir, 3, &mut files);
            }
        }
        for home in &self.homes.codex {
            collect_jsonl(&home.join("sessions"), 4, &mut files);
        }
        files.sort();
        files
    }

    fn is_codex(&self, path: &Path) -> bool {
        self.homes.codex.iter().any(|home| path.starts_with(home))
    }

    /// The bytes not read yet, over every file (for a progress bar).
    pub(crate) fn unread_bytes(&self, files: &[PathBuf]) -> u64 {
        files
            .iter()
            .filter_map(|path| {
                let meta = std::fs::metadata(path).ok()?;
                let start = self.start_of(path, &meta);
                Some(meta.len().saturating_sub(start))
            })
            .sum()
    }

    fn start_of(&self, path: &Path, meta: &std::fs::Metadata) -> u64 {
        self.resume(path, meta).map_or(0, |offset| offset.read)
    }

    /// Where reading `path` resumes, unless it is read from its start.
    fn resume(&self, path: &Path, meta: &std::fs::Metadata) -> Option<&Offset> {
        self.offsets.get(path).filter(|offset| {
            (offset.dev, offset.ino) == (meta.dev(), meta.ino()) && offset.read <= meta.len()
        })
    }

    /// Reads what was written to `files` since the last read and stores its calls; `settle`
    /// leaves a just-written last line for the next read (following), `progress` hears of every
    /// chunk (bytes read so far).
    pub(crate) async fn read(
        &mut self,
        telemetry: &Telemetry,
        files: &[PathBuf],
        settle: bool,
        mut progress: impl FnMut(u64),
    ) -> Result<ReadReport, ReadError> {
        let mut report = ReadReport::default();
        for path in files {
            // Unchanged since the last read: not even opened.
            if let Ok(meta) = std::fs::metadata(path) {
                if self.start_of(path, &meta) == meta.len() && meta.len() > 0 {
                    continue;
                }
            }
            let Ok(mut file) = std::fs::File::open(path) else {
                // Deleted meanwhile.
                self.offsets.remove(path);
                continue;
            };
            let Ok(meta) = file.metadata() else { continue };
            let mut position = self.start_of(path, &meta);
            if position == meta.len() {
                continue;
            }
            let mut codex = self.is_codex(path).then(|| {
                self.resume(path, &meta)
                    .and_then(|offset| offset.codex.clone())
                    .unwrap_or_default()
            });
            // A Codex session that ran elsewhere: its new lines are skipped unread.
            if codex.as_ref().is_some_and(|s| s.elsewhere(&self.repo)) {
                self.offsets.insert(
                    path.clone(),
                    Offset {
                        dev: meta.dev(),
                        ino: meta.ino(),
                        read: meta.len(),
                        codex,
                    },
                );
                continue;
            }
            report.files += 1;
            let recent = settle
                && meta
                    .modified()
                    .ok()
                    .and_then(|m| SystemTime::now().duration_since(m).ok())
                    .is_some_and(|age| age < SETTLE);
            if file.seek(SeekFrom::Start(position)).is_err() {
                continue;
            }
            let mut pending: Vec<Invocation> = Vec::new();
            let mut buffer = Vec::with_capacity(CHUNK.min(meta.len() as usize));
            loop {
                let mut chunk = Vec::with_capacity(CHUNK);
                let read = (&mut file)
                    .take(CHUNK as u64)
                    .read_to_end(&mut chunk)
                    .unwrap_or(0);
                if read == 0 {
                    break;
                }
                buffer.extend_from_slice(&chunk);
                let Some(last_newline) = buffer.iter().rposition(|b| *b == b'\n') else {
                    continue;
                };
                let complete: Vec<u8> = buffer.drain(..=last_newline).collect();
                let at_end = buffer.is_empty() && read < CHUNK;
                // Each line with where it ends in `complete`, and what it is.
                let mut lines: Vec<(usize, Line)> = Vec::new();
                let mut start = 0;
                for (end, _) in complete.iter().enumerate().filter(|(_, b)| **b == b'\n') {
                    let line = &complete[start..end];
                    if !line.is_empty() {
                        let line = String::from_utf8_lossy(line);
                        let parsed = match codex.as_mut() {
                            Some(session) => codex::parse(&line, session, &self.repo, &self.prices),
                            None => claude::parse(&line, &self.repo, &self.prices),
                        };
                        lines.push((end + 1, parsed));
                    }
                    start = end + 1;
                }
                // The copies of a message written last, just now, wait for the next read: more
                // copies (with its final usage) may be on their way.
                let mut kept = lines.len();
                if recent && at_end {
                    if let Some((_, Line::Call(last))) = lines.last() {
                        let key = last.invocation_id.clone();
                        while kept > 0
                            && matches!(&lines[kept - 1].1, Line::Call(c) if c.invocation_id == key)
                        {
                            kept -= 1;
                        }
                    }
                }
                let held = kept < lines.len();
                let consumed_to = if held {
                    kept.checked_sub(1).map_or(0, |i| lines[i].0)
                } else {
                    complete.len()
                };
                for (_, parsed) in lines.drain(..).take(kept) {
                    match parsed {
                        Line::Call(call) => {
                            report.calls += 1;
                            keep_largest(&mut pending, *call);
                        }
                        Line::Other => {}
                        Line::Bad(why) => {
                            report.bad_lines += 1;
                            if report.bad.len() < BAD_LINES_SHOWN {
                                report.bad.push(format!("{}: {why}", path.display()));
                            }
                        }
                    }
                }
                let consumed = consumed_to as u64;
                if pending.len() >= BATCH {
                    self.store(telemetry, &mut pending, &mut report).await?;
                }
                position += consumed;
                report.bytes += consumed;
                progress(report.bytes);
                if held {
                    // Read again from the held lines next time.
                    buffer.clear();
                    report.held.push(path.clone());
                    break;
                }
            }
            self.store(telemetry, &mut pending, &mut report).await?;
            self.offsets.insert(
                path.clone(),
                Offset {
                    dev: meta.dev(),
                    ino: meta.ino(),
                    read: position,
                    codex,
                },
            );
        }
        self.offsets.retain(|path, _| path.exists());
        self.save();
        Ok(report)
    }

    async fn store(
        &self,
        telemetry: &Telemetry,
        pending: &mut Vec<Invocation>,
        report: &mut ReadReport,
    ) -> Result<(), ReadError> {
        if pending.is_empty() {
            return Ok(());
        }
        if let Some(attribute) = &self.attribute {
            attribute(pending);
        }
        let stored = telemetry.ingest(std::mem::take(pending)).await?;
        report.inserted += stored.inserted;
        // A conflict is the same call stored from another copy (OpenTelemetry's, with the cost
        // Claude Code reported): counted once, as stored.
        report.duplicates += stored.duplicates + stored.conflicts.len() as u64;
        Ok(())
    }

    /// Writes the offsets (a temporary file renamed over the old one).
    fn save(&self) {
        let Some(path) = &self.state else { return };
        let Ok(json) = serde_json::to_vec(&self.offsets) else {
            return;
        };
        if let Some(folder) = path.parent() {
            let _ = std::fs::create_dir_all(folder);
        }
        let temp = path.with_extension("json.tmp");
        if std::fs::write(&temp, json).is_ok() {
            let _ = std::fs::rename(&temp, path);
        }
    }
}

/// Adds `call` to `pending`, or keeps the larger of it and the copy already there.
fn keep_largest(pending: &mut Vec<Invocation>, call: Invocation) {
    match pending
        .iter_mut()
        .rev()
        .take(64)
        .find(|p| p.invocation_id == call.invocation_id)
    {
        Some(copy) if call.total_tokens > copy.total_tokens => *copy = call,
        Some(_) => {}
        None => pending.push(call),
    }
}

/// `folder` to watch (what is under it too) if it exists, else the nearest folder above it that
/// does (alone): the agent may make it later.
fn nearest(folder: &Path) -> Option<(PathBuf, notify::RecursiveMode)> {
    if folder.is_dir() {
        return Some((folder.to_path_buf(), notify::RecursiveMode::NonRecursive));
    }
    folder
        .ancestors()
        .skip(1)
        .take(2)
        .find(|f| f.is_dir())
        .map(|f| (f.to_path_buf(), notify::RecursiveMode::NonRecursive))
}

fn collect_jsonl(dir: &Path, depth: u32, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() && depth > 0 {
            collect_jsonl(&path, depth - 1, files);
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "jsonl") {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// An assistant line of a session in `/work/repo`: request `request`, `output` tokens out.
    fn line(request: &str, output: u32) -> String {
        format!(
            r#"{{"type":"assistant","requestId":"{request}","sessionId":"s-1","timestamp":"2026-12-05T10:00:00Z","cwd":"/work/repo","message":{{"id":"msg_{request}","model":"claude-sonnet-4-5","usage":{{"input_tokens":100,"output_tokens":{output},"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}}}}}"#
        ) + "\n"
    }

    struct Setup {
        dir: tempfile::TempDir,
        telemetry: Telemetry,
        transcripts: Transcripts,
    }

    impl Setup {
        async fn new() -> Setup {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("claude/projects/-work-repo")).unwrap();
            let telemetry = Telemetry::open(&dir.path().join("telemetry.db"))
                .await
                .unwrap();
            let transcripts = Transcripts::new(
                Path::new("/work/repo"),
                AgentHomes {
                    claude: vec![dir.path().join("claude")],
                    codex: vec![dir.path().join("codex")],
                },
                Arc::new(PriceTable::embedded().clone()),
                Some(dir.path().join("offsets.json")),
            );
            Setup {
                dir,
                telemetry,
                transcripts,
            }
        }

        fn file(&self, name: &str) -> PathBuf {
            self.dir
                .path()
                .join("claude/projects/-work-repo")
                .join(name)
        }

        async fn read(&mut self) -> ReadReport {
            let files = self.transcripts.files();
            self.transcripts
                .read(&self.telemetry, &files, false, |_| {})
                .await
                .unwrap()
        }

        async fn stored(&self) -> Vec<(String, i64)> {
            let pools = self.telemetry.pools().await.unwrap();
            let crate::telemetry::Pools::Sqlite { reader, .. } = pools else {
                unreachable!()
            };
            sqlx::query_as("SELECT invocation_id, completion_tokens FROM invocations ORDER BY 1")
                .fetch_all(&reader)
                .await
                .unwrap()
        }
    }

    fn append(path: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    #[tokio::test]
    async fn the_largest_copy_counts_and_a_line_being_written_waits_for_its_end() {
        let mut setup = Setup::new().await;
        let session = setup.file("s-1.jsonl");
        // Streaming: two copies of one message, the second with its final usage.
        append(&session, &(line("req_a", 1) + &line("req_a", 40)));
        let half = line("req_b", 7);
        append(&session, &half[..half.len() / 2]);
        let report = setup.read().await;
        assert_eq!((report.calls, report.inserted), (2, 1));
        assert_eq!(setup.stored().await, [("claude-code:req_a".into(), 40)]);
        // The rest of the line arrives: read from where it began, once.
        append(&session, &half[half.len() / 2..]);
        let report = setup.read().await;
        assert_eq!((report.calls, report.inserted, report.bad_lines), (1, 1, 0));
        assert_eq!(setup.stored().await.len(), 2);
        // Nothing new: nothing read.
        assert_eq!(setup.read().await.bytes, 0);
    }

    #[tokio::test]
    async fn while_following_the_copies_of_a_message_written_just_now_wait_for_its_last() {
        let mut setup = Setup::new().await;
        let session = setup.file("s-1.jsonl");
        append(
            &session,
            &(line("req_a", 3) + &line("req_b", 1) + &line("req_b", 2)),
        );
        let files = setup.transcripts.files();
        let report = setup
            .transcripts
            .read(&setup.telemetry, &files, true, |_| {})
            .await
            .unwrap();
        // req_a is complete (another message follows it); req_b's copies wait.
        assert_eq!(
            (report.inserted, report.held.clone()),
            (1, vec![session.clone()])
        );
        append(&session, &line("req_b", 40));
        // Written a while ago now: read whole, the largest copy kept.
        std::fs::File::options()
            .append(true)
            .open(&session)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(1))
            .unwrap();
        let report = setup
            .transcripts
            .read(&setup.telemetry, &files, true, |_| {})
            .await
            .unwrap();
        assert_eq!((report.inserted, report.held.len()), (1, 0));
        assert_eq!(
            setup.stored().await,
            [
                ("claude-code:req_a".into(), 3),
                ("claude-code:req_b".into(), 40)
            ]
        );
    }

    #[tokio::test]
    async fn bad_lines_are_reported_and_a_rewritten_or_deleted_file_loses_nothing() {
        let mut setup = Setup::new().await;
        let session = setup.file("s-1.jsonl");
        append(
            &session,
            &(line("req_a", 5) + "{not json\n" + &line("req_b", 5)),
        );
        let report = setup.read().await;
        assert_eq!((report.inserted, report.bad_lines), (2, 1));
        assert!(report.bad[0].contains("s-1.jsonl"), "{:?}", report.bad);
        // Rewritten shorter (compacted) under the same name: read again from its start, and
        // what was stored already is not stored twice.
        std::fs::write(&session, line("req_a", 5) + &line("req_c", 5)).unwrap();
        let report = setup.read().await;
        assert_eq!(
            (report.calls, report.inserted, report.duplicates),
            (2, 1, 1)
        );
        // Replaced by another file (a new inode) of the same length: read again too.
        let replacement = setup.file("replacement.tmp");
        std::fs::write(&replacement, line("req_d", 5) + &line("req_e", 5)).unwrap();
        std::fs::rename(&replacement, &session).unwrap();
        assert_eq!(setup.read().await.inserted, 2);
        // Deleted: forgotten, and the calls it had stay stored.
        std::fs::remove_file(&session).unwrap();
        setup.read().await;
        assert_eq!(setup.stored().await.len(), 5);
        let offsets = std::fs::read_to_string(setup.dir.path().join("offsets.json")).unwrap();
        assert!(!offsets.contains("s-1.jsonl"), "{offsets}");
    }

    #[tokio::test]
    async fn offsets_kept_between_runs_read_nothing_twice() {
        let mut setup = Setup::new().await;
        append(&setup.file("s-1.jsonl"), &line("req_a", 5));
        assert_eq!(setup.read().await.inserted, 1);
        // A new reader, as after a restart: nothing read again.
        setup.transcripts = Transcripts::new(
            Path::new("/work/repo"),
            AgentHomes {
                claude: vec![setup.dir.path().join("claude")],
                codex: vec![setup.dir.path().join("codex")],
            },
            Arc::new(PriceTable::embedded().clone()),
            Some(setup.dir.path().join("offsets.json")),
        );
        let report = setup.read().await;
        assert_eq!((report.files, report.bytes), (0, 0));
    }

    /// A Codex session file of a session in `cwd`: its start, then a call of `input` tokens.
    fn codex_start(cwd: &str) -> String {
        format!(
            r#"{{"timestamp":"2026-12-05T18:13:05Z","type":"session_meta","payload":{{"id":"c-1","cwd":"{cwd}"}}}}
{{"timestamp":"2026-12-05T18:13:05Z","type":"turn_context","payload":{{"cwd":"{cwd}","model":"gpt-5-codex"}}}}
"#
        )
    }

    fn codex_call(input: u32) -> String {
        format!(
            r#"{{"timestamp":"2026-12-05T18:13:06Z","type":"token_usage_record","payload":{{"session_id":"c-1","usage":{{"input_tokens":{input},"cached_input_tokens":0,"output_tokens":5,"reasoning_output_tokens":0}}}}}}"#
        ) + "\n"
    }

    #[tokio::test]
    async fn a_codex_session_resumes_after_a_restart_knowing_where_and_with_what_it_ran() {
        let mut setup = Setup::new().await;
        let day = setup.dir.path().join("codex/sessions/2026/12/05");
        std::fs::create_dir_all(&day).unwrap();
        let ours = day.join("rollout-ours.jsonl");
        let theirs = day.join("rollout-theirs.jsonl");
        append(&ours, &(codex_start("/work/repo") + &codex_call(100)));
        append(&theirs, &(codex_start("/work/other") + &codex_call(100)));
        let report = setup.read().await;
        assert_eq!((report.files, report.inserted), (2, 1));
        // A restart, then a call more in each: the session's start is not read again, yet the
        // call is known to be ours (and theirs not), of gpt-5-codex.
        setup.transcripts = Transcripts::new(
            Path::new("/work/repo"),
            AgentHomes {
                claude: vec![setup.dir.path().join("claude")],
                codex: vec![setup.dir.path().join("codex")],
            },
            Arc::new(PriceTable::embedded().clone()),
            Some(setup.dir.path().join("offsets.json")),
        );
        append(&ours, &codex_call(200));
        append(&theirs, &codex_call(200));
        let report = setup.read().await;
        assert_eq!((report.files, report.calls, report.inserted), (1, 1, 1));
        assert_eq!(
            setup.stored().await,
            [
                ("codex:c-1:100:0:5:0".into(), 5),
                ("codex:c-1:200:0:5:0".into(), 5)
            ]
        );
    }
}
