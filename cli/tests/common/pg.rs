//! A throwaway PostgreSQL cluster for the tests that need the real
//! database: `initdb`/`pg_ctl` as the `postgres` system user when run as
//! root (initdb refuses root), on a loopback port, trust auth, stopped and
//! deleted on drop (also on panic). Without PostgreSQL binaries the tests
//! fail with a message, never skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A throwaway PostgreSQL cluster, stopped and deleted on drop.
pub struct Pg {
    bin: PathBuf,
    as_root: bool,
    data: PathBuf,
    port: u16,
    _root: tempfile::TempDir,
}

fn pg_bin_dir() -> PathBuf {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                // The other tools (createdb, psql) sit beside the real initdb
                // (PATH may hold only symlinks to it).
                return std::fs::canonicalize(dir.join("initdb"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .filter(|d| d.join("createdb").is_file() && d.join("psql").is_file())
                    .unwrap_or(dir);
            }
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.flatten()
                .map(|e| e.path().join("bin"))
                .filter(|b| b.join("initdb").is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is required by these tests (issue 16: they must run, not skip): \
             no initdb/pg_ctl on PATH nor under /usr/lib/postgresql/*/bin. \
             Install PostgreSQL 15 (e.g. apt-get install postgresql-15)"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Pg {
    pub fn start() -> Pg {
        let bin = pg_bin_dir();
        let as_root = is_root();
        let root = tempfile::Builder::new()
            .prefix("sv-pg-")
            .tempdir_in(super::scratch_root())
            .unwrap();
        let data = root.path().join("data");
        let sock = root.path().join("sock");
        std::fs::create_dir_all(&sock).unwrap();
        if as_root {
            // initdb refuses root: the cluster belongs to the postgres user.
            let st = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(root.path())
                .status()
                .unwrap();
            assert!(st.success(), "chown of the cluster dir to postgres failed");
        }
        let mut pg = Pg {
            bin,
            as_root,
            data,
            port: 0,
            _root: root,
        };
        let out = pg
            .cmd("initdb")
            .arg("-D")
            .arg(&pg.data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .output()
            .expect("initdb could not be started");
        assert!(
            out.status.success(),
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // A port taken between the probe and the start: try another.
        for _ in 0..5 {
            let port = free_port();
            let log = pg._root.path().join("pg.log");
            let out = pg
                .cmd("pg_ctl")
                .arg("-D")
                .arg(&pg.data)
                .arg("-l")
                .arg(&log)
                .arg("-o")
                .arg(format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
                    sock.display()
                ))
                .args(["-w", "-t", "60", "start"])
                .output()
                .expect("pg_ctl could not be started");
            if out.status.success() {
                pg.port = port;
                return pg;
            }
            eprintln!(
                "pg_ctl start on port {port} failed: {}{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("the PostgreSQL cluster did not start");
    }

    pub fn cmd(&self, prog: &str) -> Command {
        let path = self.bin.join(prog);
        if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    pub fn create_db(&self, db: &str) -> String {
        self.run_client("createdb", &[db]);
        self.url(db)
    }

    /// One value from `psql -tA`.
    pub fn query(&self, db: &str, sql: &str) -> String {
        self.run_client("psql", &["-tA", "-d", db, "-c", sql])
    }

    /// Runs a client tool (`createdb`, `psql`) against this cluster as the
    /// `postgres` role; its standard output, or a panic with its stderr.
    fn run_client(&self, prog: &str, args: &[&str]) -> String {
        let out = self
            .cmd(prog)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{prog}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self
                .cmd("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        // The temp dir (data included) is removed when `_root` drops.
    }
}
