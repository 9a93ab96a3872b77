//! What the data tests share: scratch folders, archives built in memory (good and hostile),
//! a local HTTP server on 127.0.0.1 that answers, refuses, stays silent or stalls (bounded: it
//! stops by itself), and a deadline around calls that must not hang.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use wgtrain::data::cifar10::{self, Cifar10};

/// An empty folder of the test's own under the system's temporary folder.
pub fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("wgtrain-data-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

pub fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", Md5::digest(bytes))
}

/// `train` and `test` synthetic images written as CIFAR batches under `dir`; returns the folder.
pub fn batches(dir: &Path, train: usize, test: usize) -> PathBuf {
    Cifar10::synthetic(train, 1).unwrap().write_binary(&Cifar10::synthetic(test, 2).unwrap(), dir).unwrap()
}

/// A `.tar.gz` in memory, built entry by entry.
pub struct Tgz(tar::Builder<flate2::write::GzEncoder<Vec<u8>>>);

impl Tgz {
    pub fn new() -> Tgz {
        Tgz(tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast())))
    }
    /// The batch files of `folder` under `cifar-10-batches-bin/`, as the official archive.
    pub fn cifar(mut self, folder: &Path) -> Tgz {
        self.0.append_dir_all(cifar10::FOLDER, folder).unwrap();
        self
    }
    /// A regular file.
    pub fn file(mut self, name: &str, data: &[u8]) -> Tgz {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        self.0.append_data(&mut h, name, data).unwrap();
        self
    }
    /// A folder entry.
    pub fn dir(mut self, name: &str) -> Tgz {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o755);
        h.set_entry_type(tar::EntryType::Directory);
        self.0.append_data(&mut h, name, &[][..]).unwrap();
        self
    }
    /// A link entry (`Symlink` or `Link`) named `name` pointing at `to`.
    pub fn link(mut self, kind: tar::EntryType, name: &str, to: &str) -> Tgz {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o777);
        h.set_entry_type(kind);
        self.0.append_link(&mut h, name, to).unwrap();
        self
    }
    /// An entry of any type whose raw name is `name` (set_path refuses `..` and absolute
    /// paths, so this writes the bytes the way a hostile archive would).
    pub fn raw(mut self, kind: tar::EntryType, name: &str, data: &[u8]) -> Tgz {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(kind);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        self.0.append(&h, data).unwrap();
        self
    }
    pub fn bytes(self) -> Vec<u8> {
        self.0.into_inner().unwrap().finish().unwrap()
    }
    /// Written to `dir/name`; returns the path.
    pub fn write(self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.bytes()).unwrap();
        path
    }
}

/// What the local server does with each request.
#[derive(Clone)]
pub enum Reply {
    /// 200 with this body.
    Body(Vec<u8>),
    /// 404.
    NotFound,
    /// Accepts, reads the request, and never answers.
    Silent,
    /// Headers announcing `len` bytes, then `sent`, then nothing more (the connection open).
    Stall { len: usize, sent: Vec<u8> },
    /// Headers announcing `len` bytes, then `sent`, then closes.
    Close { len: usize, sent: Vec<u8> },
}

/// How long the server lives at most, and holds a silent connection at most.
const SERVER_LIFE: Duration = Duration::from_secs(20);

/// Serves `reply` to up to `requests` connections on 127.0.0.1, then stops (or after
/// [`SERVER_LIFE`]); returns the URL of the archive on it.
pub fn serve(reply: Reply, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let end = Instant::now() + SERVER_LIFE;
        let mut served = 0;
        while served < requests && Instant::now() < end {
            match listener.accept() {
                Ok((stream, _)) => {
                    served += 1;
                    answer(stream, &reply, end);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    format!("http://{addr}/cifar-10-binary.tar.gz")
}

fn answer(mut s: TcpStream, reply: &Reply, end: Instant) {
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut req = [0u8; 4096];
    let _ = s.read(&mut req);
    let head = |len: usize| format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
    let stalled = match reply {
        Reply::Body(b) => s.write_all(head(b.len()).as_bytes()).and_then(|_| s.write_all(b)).is_err(),
        Reply::NotFound => {
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            false
        }
        Reply::Silent => true,
        Reply::Stall { len, sent } => s.write_all(head(*len).as_bytes()).and_then(|_| s.write_all(sent)).is_ok(),
        Reply::Close { len, sent } => s.write_all(head(*len).as_bytes()).and_then(|_| s.write_all(sent)).is_err(),
    };
    if stalled && matches!(reply, Reply::Silent | Reply::Stall { .. }) {
        hold(&mut s, end);
    }
}

/// Keeps the connection open, sending nothing, until the client hangs up or `end`.
fn hold(s: &mut TcpStream, end: Instant) {
    let mut buf = [0u8; 64];
    while Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// An address where nothing listens (a port just freed): connections are refused.
pub fn refused() -> String {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}/cifar-10-binary.tar.gz")
}

/// Runs `f` on a thread and returns its result and how long it took; fails the test when it is
/// still running after `limit` (a download without a timeout would hang here forever).
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    let t0 = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => (v, t0.elapsed()),
        Err(_) => panic!("still running after {limit:?}: no timeout fired"),
    }
}

/// The names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.map(|e| e.unwrap().file_name().into_string().unwrap()).collect())
        .unwrap_or_default();
    v.sort();
    v
}
