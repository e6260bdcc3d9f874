//! Start-up cost of a Ferry worker: milliseconds from spawning
//! `ferry standalone WORKER` to its REST API answering `GET /` with 200, and
//! its resident memory once idle.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use ferry_bench::args::Args;

const USAGE: &str =
    "startup --bin FERRY --worker WORKER_PROPERTIES --port REST_PORT [--settle-ms 2000]";

fn main() {
    let args = Args::parse(USAGE);
    let bin: String = args.required("bin");
    let worker: String = args.required("worker");
    let port: u16 = args.required("port");
    let settle = Duration::from_millis(args.get_or("settle-ms", 2000));

    let start = Instant::now();
    let mut child = Command::new(&bin)
        .args(["standalone", &worker])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e}"));
    let pid = child.id();
    while !answers_200(port) {
        if let Some(status) = child.try_wait().expect("poll child") {
            eprintln!("startup: {bin} exited with {status} before its REST API was ready");
            std::process::exit(1);
        }
        if start.elapsed() > Duration::from_secs(60) {
            eprintln!("startup: REST API not ready after 60 s");
            let _ = child.kill();
            std::process::exit(1);
        }
        thread::sleep(Duration::from_millis(1));
    }
    let ready = start.elapsed();
    let rss_ready = status_kb(pid, "VmRSS");
    // Idle means after start-up work has finished: give it a moment.
    thread::sleep(settle);
    let rss_idle = status_kb(pid, "VmRSS");
    let hwm = status_kb(pid, "VmHWM");

    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let exit = child.wait().expect("wait for ferry");

    let ms = ready.as_secs_f64() * 1000.0;
    println!(
        "startup: REST ready after {ms:.1} ms; RSS {rss_ready} kB at ready, {rss_idle} kB idle \
         after {} ms (peak {hwm} kB); exit after SIGTERM: {exit}",
        settle.as_millis()
    );
    println!(
        "RESULT ready_ms={ms:.1} rss_ready_kb={rss_ready} rss_idle_kb={rss_idle} rss_peak_kb={hwm}"
    );
}

/// One `GET /` over a fresh connection; true on an HTTP 200 status line.
fn answers_200(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

/// A `kB` field of /proc/PID/status (0 if unreadable).
fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_owned))
        })
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
