//! `cargo xtask emulator start|stop|status`: the local AWS emulator, moto in server
//! mode, installed in a virtualenv of its own under the cache directory and run
//! through hubfix's extension of it, `emulator/moto_ext.py` (same CLI as `moto_server`).
//!
//! `start` leaves a detached server running, described by `<cache>/emulator.json`.
//! `test` and `demo` instead start an [`Instance`] of their own on a fresh port, which
//! is stopped when it is dropped, whether the tests passed or not.

use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cmd;
use crate::paths::Paths;
use crate::venv;

/// How long the server may take to answer its first request.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// The path polled for readiness: moto's own API, which answers 200 once it serves.
const READY_PATH: &str = "/moto-api/";
/// Where the virtualenv remembers which requirements it was installed from.
const STAMP_FILE: &str = ".hubfix-requirements.sha256";
/// The server program, under `<repo>/emulator/`: moto plus hubfix's extension.
const SERVER_SCRIPT: &str = "moto_ext.py";

fn endpoint(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

// ---------------------------------------------------------------------------------
// The detached server of `cargo xtask emulator start`.

/// What `<cache>/emulator.json` records about the detached server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub pid: u32,
    pub port: u16,
    pub endpoint: String,
}

impl State {
    fn new(pid: u32, port: u16) -> Self {
        Self {
            pid,
            port,
            endpoint: endpoint(port),
        }
    }

    fn to_json(&self) -> String {
        format!(
            "{{\"pid\": {}, \"port\": {}, \"endpoint\": \"{}\"}}\n",
            self.pid, self.port, self.endpoint
        )
    }

    /// Reads the JSON written by [`State::to_json`] (field order and spacing free).
    fn from_json(text: &str) -> Result<Self> {
        let pid = json_field(text, "pid")?
            .parse()
            .context("`pid` is not a process id")?;
        let port = json_field(text, "port")?
            .parse()
            .context("`port` is not a port number")?;
        let endpoint = json_field(text, "endpoint")?;
        let endpoint = endpoint
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .context("`endpoint` is not a string")?
            .to_owned();
        Ok(Self {
            pid,
            port,
            endpoint,
        })
    }
}

/// The raw value of `"key": value` in a flat JSON object whose values are numbers or
/// strings without escapes, which is all the state file holds.
fn json_field<'a>(text: &'a str, key: &str) -> Result<&'a str> {
    let quoted = format!("\"{key}\"");
    let start = text
        .find(&quoted)
        .with_context(|| format!("no `{key}` field"))?;
    let rest = text[start + quoted.len()..].trim_start();
    let rest = rest
        .strip_prefix(':')
        .with_context(|| format!("no `:` after `{key}`"))?
        .trim_start();
    let end = if let Some(string) = rest.strip_prefix('"') {
        string
            .find('"')
            .map(|end| end + 2)
            .with_context(|| format!("unterminated string in `{key}`"))?
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Ok(rest[..end].trim())
}

fn state_file(paths: &Paths) -> PathBuf {
    paths.cache.join("emulator.json")
}

fn read_state(paths: &Paths) -> Result<Option<State>> {
    let file = state_file(paths);
    match fs::read_to_string(&file) {
        Ok(text) => State::from_json(&text)
            .map(Some)
            .with_context(|| format!("{} is not a valid emulator state file", file.display())),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("cannot read {}", file.display())),
    }
}

fn remove_state(paths: &Paths) -> Result<()> {
    let file = state_file(paths);
    match fs::remove_file(&file) {
        Err(err) if err.kind() != ErrorKind::NotFound => {
            Err(err).with_context(|| format!("cannot remove {}", file.display()))
        }
        _ => Ok(()),
    }
}

/// The recorded server, if its process is alive, looks like moto and answers.
fn running(paths: &Paths) -> Result<Option<State>> {
    let Some(state) = read_state(paths)? else {
        return Ok(None);
    };
    let alive = pid_alive(state.pid) && looks_like_moto(state.pid);
    if alive && http_status(state.port, READY_PATH).is_ok_and(|status| status == 200) {
        Ok(Some(state))
    } else {
        Ok(None)
    }
}

/// `emulator start`: reuse the running server, or start a detached one.
pub fn start(paths: &Paths, port: Option<u16>) -> Result<()> {
    if let Some(state) = running(paths)? {
        if port.is_some_and(|port| port != state.port) {
            bail!(
                "the emulator is already running at {}; run `cargo xtask emulator stop` first to move it",
                state.endpoint
            );
        }
        eprintln!(
            "xtask: emulator already running (pid {}) at {}",
            state.pid, state.endpoint
        );
        println!("{}", state.endpoint);
        return Ok(());
    }
    // A state file left by a server that died (or a reboot) describes nothing.
    if let Some(stale) = read_state(paths).ok().flatten()
        && pid_alive(stale.pid)
        && looks_like_moto(stale.pid)
    {
        eprintln!("xtask: stopping unresponsive emulator (pid {})…", stale.pid);
        terminate(stale.pid)?;
    }
    remove_state(paths)?;

    let python = ensure_venv(paths)?;
    let script = server_script(paths)?;
    let port = match port {
        Some(port) => {
            ensure_port_free(port)?;
            port
        }
        None => free_port()?,
    };
    let log = paths.cache.join("emulator.log");
    eprintln!(
        "xtask: starting the emulator on port {port} (log: {})…",
        log.display()
    );
    let mut child = spawn(&python, &script, port, &log, true)?;
    if let Err(err) = wait_ready(&mut child, port, &log) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(err);
    }
    let state = State::new(child.id(), port);
    let file = state_file(paths);
    fs::write(&file, state.to_json())
        .with_context(|| format!("cannot write {}", file.display()))?;
    eprintln!(
        "xtask: emulator running (pid {}) at {}",
        state.pid, state.endpoint
    );
    println!("{}", state.endpoint);
    Ok(())
}

/// `emulator stop`.
pub fn stop(paths: &Paths) -> Result<()> {
    match read_state(paths)? {
        Some(state) if pid_alive(state.pid) && looks_like_moto(state.pid) => {
            eprintln!("xtask: stopping the emulator (pid {})…", state.pid);
            terminate(state.pid)?;
            remove_state(paths)?;
            println!("stopped");
        }
        _ => {
            remove_state(paths)?;
            println!("not running");
        }
    }
    Ok(())
}

/// `emulator status`.
pub fn status(paths: &Paths) -> Result<()> {
    match running(paths)? {
        Some(state) => println!("{}", state.endpoint),
        None => println!("not running"),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// A server owned by one task run.

/// An emulator started for one task run, on a fresh port, stopped when dropped.
/// It shares the task's process group, so Ctrl-C stops it too.
pub struct Instance {
    child: Child,
    port: u16,
    log: PathBuf,
    keep_log: bool,
}

/// The variable that sets how many emulators `cargo xtask test` starts.
pub const EMULATORS_VAR: &str = "HUBFIX_EMULATORS";

/// The most emulators `test` starts without being told.
const MAX_DEFAULT_EMULATORS: usize = 4;

/// How many emulators `cargo xtask test` runs the workspace tests against:
/// `HUBFIX_EMULATORS` (1 to 16), else one per core, at most four. Each is one Python
/// process that uses at most one core, and the plugin scenarios spread over all of them.
pub fn count() -> Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    emulator_count(std::env::var(EMULATORS_VAR).ok().as_deref(), cores)
}

fn emulator_count(var: Option<&str>, cores: usize) -> Result<usize> {
    match var {
        None | Some("") => Ok(cores.clamp(1, MAX_DEFAULT_EMULATORS)),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n @ 1..=16) => Ok(n),
            _ => bail!("{EMULATORS_VAR} must be a number from 1 to 16, not {text:?}"),
        },
    }
}

impl Instance {
    /// `n` emulators, each on a fresh port (all of them stop when dropped).
    pub fn start_many(paths: &Paths, n: usize) -> Result<Vec<Self>> {
        (0..n).map(|_| Self::start(paths)).collect()
    }

    pub fn start(paths: &Paths) -> Result<Self> {
        let python = ensure_venv(paths)?;
        let script = server_script(paths)?;
        let port = free_port()?;
        let log = paths.cache.join(format!("emulator-{port}.log"));
        eprintln!("xtask: starting an emulator for this run on port {port}…");
        let child = spawn(&python, &script, port, &log, false)?;
        let mut instance = Self {
            child,
            port,
            log,
            keep_log: false,
        };
        if let Err(err) = wait_ready(&mut instance.child, port, &instance.log) {
            instance.keep_log = true;
            return Err(err);
        }
        eprintln!("xtask: emulator ready at {}", instance.endpoint());
        Ok(instance)
    }

    pub fn endpoint(&self) -> String {
        endpoint(self.port)
    }

    /// Keeps the server's log after it stops (for a run that failed).
    pub fn keep_log(&mut self) {
        self.keep_log = true;
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        eprintln!("xtask: stopping the emulator on port {}…", self.port);
        // An emulator that already exited is fine: `wait` below reaps it.
        if let Err(err) = self.child.kill() {
            eprintln!(
                "xtask: warning: cannot stop the emulator (pid {}): {err}",
                self.child.id()
            );
        }
        let _ = self.child.wait();
        if self.keep_log || std::thread::panicking() {
            eprintln!("xtask: emulator log kept at {}", self.log.display());
        } else {
            let _ = fs::remove_file(&self.log);
        }
    }
}

// ---------------------------------------------------------------------------------
// Installing and running moto.

/// Makes sure `<cache>/venv` has the pinned moto, and returns the venv's `python`.
/// pip runs only when `emulator/requirements.txt` changed since the last install.
pub(crate) fn ensure_venv(paths: &Paths) -> Result<PathBuf> {
    venv::ensure(
        paths,
        &venv::Install {
            what: "the emulator",
            requirements: &["emulator/requirements.txt"],
            stamp: STAMP_FILE,
            // Installed by moto[server]; its presence tells that the install completed.
            witness: "moto_server",
        },
    )
}

/// `<repo>/emulator/moto_ext.py`, which must exist.
fn server_script(paths: &Paths) -> Result<PathBuf> {
    let script = paths.root.join("emulator").join(SERVER_SCRIPT);
    if !script.is_file() {
        bail!("the emulator server {} is missing", script.display());
    }
    Ok(script)
}

/// Starts `python moto_ext.py` on 127.0.0.1:`port` with its output in `log`. A
/// detached server gets a process group of its own, so it outlives the terminal's
/// Ctrl-C.
fn spawn(python: &Path, script: &Path, port: u16, log: &Path, detached: bool) -> Result<Child> {
    if let Some(dir) = log.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let err = out
        .try_clone()
        .with_context(|| format!("cannot reopen {}", log.display()))?;
    let mut command = Command::new(python);
    command
        .arg(script)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("PYTHONUNBUFFERED", "1")
        // AWS-managed policies (`arn:aws:iam::aws:policy/AWSSupportAccess`, ...) exist in
        // every account, as in AWS: IAM.18 and IAM.27 plugins attach and detach them.
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    if detached {
        command.process_group(0);
    }
    command
        .spawn()
        .with_context(|| format!("could not start `{}`", cmd::describe(&command)))
}

/// Polls `GET /moto-api/` until it answers 200, the server exits, or time runs out.
fn wait_ready(child: &mut Child, port: u16, log: &Path) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let url = format!("{}{READY_PATH}", endpoint(port));
    loop {
        if let Some(status) = child
            .try_wait()
            .with_context(|| format!("cannot check on {SERVER_SCRIPT}"))?
        {
            bail!(
                "{SERVER_SCRIPT} exited ({status}) before answering {url}; end of {}:\n{}",
                log.display(),
                log_tail(log, 20)
            );
        }
        let last = match http_status(port, READY_PATH) {
            Ok(200) => return Ok(()),
            Ok(status) => format!("HTTP {status}"),
            Err(err) => err.to_string(),
        };
        if Instant::now() >= deadline {
            bail!(
                "the emulator did not answer {url} within {} s (last: {last}); end of {}:\n{}",
                READY_TIMEOUT.as_secs(),
                log.display(),
                log_tail(log, 20)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The last `lines` lines of a log file, or a note saying why there are none.
fn log_tail(log: &Path, lines: usize) -> String {
    match fs::read(log) {
        Ok(bytes) => tail(&String::from_utf8_lossy(&bytes), lines),
        Err(err) => format!("(cannot read the log: {err})"),
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    if all.is_empty() {
        return "(the log is empty)".to_owned();
    }
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------------------------
// Ports, HTTP and processes, with std only.

/// A port that is free right now, chosen by the kernel.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("cannot bind 127.0.0.1:0 to find a free port")?;
    Ok(listener
        .local_addr()
        .context("cannot read the bound address")?
        .port())
}

fn ensure_port_free(port: u16) -> Result<()> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .map(drop)
        .with_context(|| format!("port {port} on 127.0.0.1 is not free"))
}

/// The status code of `GET path` on 127.0.0.1:`port`.
fn http_status(port: u16, path: &str) -> std::io::Result<u16> {
    let timeout = Duration::from_secs(2);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    // One write: a server may read the request in one go.
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    // The status line is all we need; read until it is complete.
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    parse_status_line(&String::from_utf8_lossy(&head))
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidData, "not an HTTP response"))
}

/// The code in an HTTP status line such as `HTTP/1.1 200 OK`.
fn parse_status_line(response: &str) -> Option<u16> {
    let line = response.lines().next()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// Whether `pid` is a live process. On Linux a zombie does not count (a container's
/// init may never reap the detached server once it is killed).
fn pid_alive(pid: u32) -> bool {
    let proc_stat = PathBuf::from(format!("/proc/{pid}/stat"));
    if Path::new("/proc/self/stat").exists() {
        return fs::read_to_string(proc_stat).is_ok_and(|stat| proc_state(&stat) != Some('Z'));
    }
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The state letter of a `/proc/PID/stat` line (`123 (name) S …`).
fn proc_state(stat: &str) -> Option<char> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.trim_start().chars().next()
}

/// Guards against signalling an unrelated process that reused a recorded pid.
/// Where `/proc` is unavailable, the pid is trusted. A plain `moto_server` counts too:
/// earlier versions of xtask started that.
fn looks_like_moto(pid: u32) -> bool {
    match fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => is_emulator_cmdline(&String::from_utf8_lossy(&cmdline)),
        Err(_) => !Path::new("/proc/self/cmdline").exists(),
    }
}

/// Whether a `/proc/PID/cmdline` (arguments separated by NUL) runs the emulator.
fn is_emulator_cmdline(cmdline: &str) -> bool {
    cmdline.split('\0').any(|arg| {
        Path::new(arg)
            .file_name()
            .is_some_and(|name| name == SERVER_SCRIPT || name == "moto_server")
    })
}

/// SIGTERM, then SIGKILL if the process is still there after five seconds.
fn terminate(pid: u32) -> Result<()> {
    let signal = |name: &str| {
        Command::new("kill")
            .args(["-s", name, &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .with_context(|| format!("could not run `kill -s {name} {pid}`"))
    };
    signal("TERM")?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !pid_alive(pid) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    signal("KILL")?;
    std::thread::sleep(Duration::from_millis(200));
    if pid_alive(pid) {
        bail!("the emulator (pid {pid}) survived SIGKILL");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips() {
        let state = State::new(4242, 5055);
        assert_eq!(state.endpoint, "http://127.0.0.1:5055");
        let json = state.to_json();
        assert_eq!(
            json,
            "{\"pid\": 4242, \"port\": 5055, \"endpoint\": \"http://127.0.0.1:5055\"}\n"
        );
        assert_eq!(State::from_json(&json).unwrap(), state);
    }

    #[test]
    fn state_reads_other_layouts() {
        let text = "{\n  \"endpoint\":\"http://127.0.0.1:1\",\n  \"port\":1,\"pid\":7\n}";
        assert_eq!(State::from_json(text).unwrap(), State::new(7, 1));
    }

    #[test]
    fn bad_state_is_an_error() {
        assert!(State::from_json("").is_err());
        assert!(State::from_json("{\"pid\": 1, \"port\": 2}").is_err());
        assert!(State::from_json("{\"pid\": -1, \"port\": 2, \"endpoint\": \"x\"}").is_err());
        assert!(State::from_json("{\"pid\": 1, \"port\": 70000, \"endpoint\": \"x\"}").is_err());
        assert!(State::from_json("{\"pid\": 1, \"port\": 2, \"endpoint\": 3}").is_err());
        assert!(State::from_json("{\"pid\": 1, \"port\": 2, \"endpoint\": \"x}").is_err());
    }

    #[test]
    fn state_file_round_trips_on_disk() {
        let cache = std::env::temp_dir().join(format!("xtask-state-{}", std::process::id()));
        fs::create_dir_all(&cache).unwrap();
        let paths = Paths::new("/repo".into(), None, Path::new("/"), cache.clone());
        assert_eq!(read_state(&paths).unwrap(), None);
        let state = State::new(1, 2);
        fs::write(state_file(&paths), state.to_json()).unwrap();
        assert_eq!(read_state(&paths).unwrap(), Some(state));
        remove_state(&paths).unwrap();
        remove_state(&paths).unwrap();
        assert_eq!(read_state(&paths).unwrap(), None);
        fs::remove_dir_all(&cache).unwrap();
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            parse_status_line("HTTP/1.1 200 OK\r\nServer: x\r\n"),
            Some(200)
        );
        assert_eq!(parse_status_line("HTTP/1.0 404 NOT FOUND"), Some(404));
        assert_eq!(parse_status_line("SSH-2.0-OpenSSH"), None);
        assert_eq!(parse_status_line(""), None);
    }

    #[test]
    fn http_status_against_a_tiny_server() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 64];
            while !request.ends_with(b"\r\n\r\n") {
                let n = stream.read(&mut buf).unwrap();
                assert_ne!(n, 0, "request cut short");
                request.extend_from_slice(&buf[..n]);
            }
            let request = String::from_utf8(request).unwrap();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            request
        });
        assert_eq!(http_status(port, READY_PATH).unwrap(), 200);
        let request = server.join().unwrap();
        assert!(
            request.starts_with("GET /moto-api/ HTTP/1.1\r\n"),
            "{request}"
        );
    }

    #[test]
    fn free_ports_are_free_and_taken_ones_are_refused() {
        assert_ne!(free_port().unwrap(), 0);
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        let err = ensure_port_free(port).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("port {port} on 127.0.0.1 is not free")
        );
    }

    #[test]
    fn one_emulator_per_core_unless_told() {
        assert_eq!(emulator_count(None, 2).unwrap(), 2);
        assert_eq!(emulator_count(None, 64).unwrap(), MAX_DEFAULT_EMULATORS);
        assert_eq!(emulator_count(Some(""), 1).unwrap(), 1);
        assert_eq!(emulator_count(Some(" 3 "), 2).unwrap(), 3);
        for bad in ["0", "17", "two", "-1"] {
            let err = emulator_count(Some(bad), 2).unwrap_err().to_string();
            assert!(err.contains(EMULATORS_VAR), "{err}");
        }
    }

    #[test]
    fn proc_state_letters() {
        assert_eq!(proc_state("123 (moto_server) S 1 2 3"), Some('S'));
        assert_eq!(proc_state("123 (a) b) Z 1"), Some('Z'));
        assert_eq!(proc_state("garbage"), None);
    }

    #[test]
    fn emulator_command_lines() {
        // As in /proc/PID/cmdline: every argument ends with a NUL.
        let cmdline = |args: &[&str]| {
            args.iter()
                .map(|arg| format!("{arg}\0"))
                .collect::<String>()
        };
        let python = "/home/u/.cache/hubfix/venv/bin/python";
        let ext = cmdline(&[
            python,
            "/repo/emulator/moto_ext.py",
            "-H",
            "127.0.0.1",
            "-p",
            "5055",
        ]);
        assert!(is_emulator_cmdline(&ext));
        let plain = cmdline(&[python, "/venv/bin/moto_server", "-H", "127.0.0.1"]);
        assert!(is_emulator_cmdline(&plain));
        let editor = cmdline(&["/usr/bin/vim", "/repo/emulator/moto_ext.py.orig"]);
        assert!(!is_emulator_cmdline(&editor));
        assert!(!is_emulator_cmdline(&cmdline(&["/bin/sleep", "100"])));
        assert!(!is_emulator_cmdline(""));
    }

    #[test]
    fn the_server_script_is_in_the_repository() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let paths = Paths::new(root.into(), None, Path::new("/"), std::env::temp_dir());
        let script = server_script(&paths).unwrap();
        assert!(
            script.ends_with("emulator/moto_ext.py"),
            "{}",
            script.display()
        );
        let elsewhere = Paths::new(
            "/nonexistent".into(),
            None,
            Path::new("/"),
            std::env::temp_dir(),
        );
        let err = server_script(&elsewhere).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the emulator server /nonexistent/emulator/moto_ext.py is missing"
        );
    }

    #[test]
    fn this_process_is_alive_and_not_the_emulator() {
        assert!(pid_alive(std::process::id()));
        assert!(!looks_like_moto(std::process::id()));
    }

    #[test]
    fn tails_keep_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a\n", 5), "a");
        assert_eq!(tail("", 5), "(the log is empty)");
    }
}
