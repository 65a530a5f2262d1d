//! A real Redis Cluster for the sharding tests: six Debian `redis-server` processes on free
//! loopback ports (each in a temp dir, cluster mode, no persistence), joined by
//! `redis-cli --cluster create --cluster-replicas 1` into three masters with one replica
//! each, a cluster node timeout of 2 s so a killed master's replica takes over within a
//! few seconds, and `cluster-require-full-coverage no` so the other shards keep serving
//! meanwhile (as the README asks of production clusters). Every node is killed on drop, so a failing test leaves nothing running.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis_server::free_port;

/// Longest the cluster may take to form (every node answering `cluster_state:ok`).
const FORM_LIMIT: Duration = Duration::from_secs(30);
/// How long a master may be unreachable before its replica is promoted.
pub const NODE_TIMEOUT_MS: u64 = 2000;

struct Node {
    child: Option<Child>,
    port: u16,
    _dir: tempfile::TempDir,
}

pub struct RedisCluster {
    nodes: Vec<Node>,
}

fn server_binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "/usr/bin/redis-server".to_owned())
}

fn cli(port: u16, args: &[&str]) -> Option<String> {
    let output = Command::new("redis-cli").args(["-h", "127.0.0.1", "-p", &port.to_string()]).args(args).stdin(Stdio::null()).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A free port whose cluster bus port (port + 10000) is free too.
fn free_cluster_port(taken: &[u16]) -> u16 {
    for _ in 0..100 {
        let port = free_port();
        if port < 55_000 && !taken.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair for a redis cluster node");
}

impl RedisCluster {
    /// Starts six nodes and forms three masters with one replica each.
    pub fn start() -> RedisCluster {
        let mut nodes = Vec::new();
        let mut ports = Vec::new();
        for _ in 0..6 {
            let port = free_cluster_port(&ports);
            ports.push(port);
            let dir = tempfile::tempdir().expect("temp dir for a redis node");
            let child = Command::new(server_binary())
                .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--cluster-enabled", "yes"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf"), "--cluster-node-timeout", &NODE_TIMEOUT_MS.to_string()])
                // One shard down must not stop the others (Redis's default refuses every
                // query while any slot is uncovered).
                .args(["--cluster-require-full-coverage", "no"])
                .args(["--appendonly", "no", "--save", "", "--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning"])
                .arg("--dir")
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e} (scripts/cluster-test.sh installs redis-server)", server_binary()));
            nodes.push(Node { child: Some(child), port, _dir: dir });
        }
        let cluster = RedisCluster { nodes };
        let deadline = Instant::now() + FORM_LIMIT;
        for port in &ports {
            while cli(*port, &["PING"]).is_none_or(|answer| answer.trim() != "PONG") {
                assert!(Instant::now() < deadline, "redis node {port} did not start");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let addresses: Vec<String> = ports.iter().map(|port| format!("127.0.0.1:{port}")).collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli --cluster create");
        assert!(created.success(), "redis-cli --cluster create failed");
        cluster.wait_until_ok(deadline);
        cluster
    }

    /// Waits until every running node says `cluster_state:ok` and agrees on three masters, and
    /// every replica is in sync with its master.
    pub fn wait_until_ok(&self, deadline: Instant) {
        for node in self.nodes.iter().filter(|node| node.child.is_some()) {
            loop {
                let ok = cli(node.port, &["CLUSTER", "INFO"]).is_some_and(|info| info.contains("cluster_state:ok"))
                    // A replica that never synced with its master cannot take over from it.
                    && cli(node.port, &["INFO", "replication"])
                        .is_some_and(|info| info.contains("role:master") || info.contains("master_link_status:up"));
                if ok && self.masters_seen_by(node.port).len() == 3 {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "redis cluster node {} is not ok in time: {:?} {:?}",
                    node.port,
                    cli(node.port, &["CLUSTER", "INFO"]).map(|info| info.lines().take(3).collect::<Vec<_>>().join(" ")),
                    cli(node.port, &["CLUSTER", "NODES"])
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// `--redis` for the relays: every node a seed.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self.nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)).collect();
        format!("redis+cluster://{}", hosts.join(","))
    }

    /// The masters (port, slot ranges) as node `port` sees them, failed ones left out.
    fn masters_seen_by(&self, port: u16) -> Vec<(u16, Vec<(u16, u16)>)> {
        let Some(nodes) = cli(port, &["CLUSTER", "NODES"]) else { return Vec::new() };
        let mut masters = Vec::new();
        for line in nodes.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 9 || !fields[2].contains("master") || fields[2].contains("fail") {
                continue;
            }
            let Some(node_port) = fields[1].split(['@', ':']).nth(1).and_then(|p| p.parse().ok()) else { continue };
            let ranges = fields[8..]
                .iter()
                .filter(|range| !range.starts_with('['))
                .filter_map(|range| match range.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => range.parse().ok().map(|slot| (slot, slot)),
                })
                .collect();
            masters.push((node_port, ranges));
        }
        masters
    }

    /// The port of the master owning `slot`, as a running node sees it.
    pub fn master_of(&self, slot: u16) -> Option<u16> {
        let node = self.nodes.iter().find(|node| node.child.is_some())?;
        self.masters_seen_by(node.port)
            .into_iter()
            .find(|(_, ranges)| ranges.iter().any(|(first, last)| (*first..=*last).contains(&slot)))
            .map(|(port, _)| port)
    }

    /// One room name per master (`{prefix}-N`, the first N whose slot that master owns),
    /// in the order of the masters' ports.
    pub fn rooms_on_each_master(&self, prefix: &str) -> Vec<(String, u16)> {
        let mut rooms: Vec<(String, u16)> = Vec::new();
        for n in 0..10_000 {
            let room = format!("{prefix}-{n}");
            let Some(master) = self.master_of(relay::room_slot(&room)) else { continue };
            if !rooms.iter().any(|(_, port)| *port == master) {
                rooms.push((room, master));
            }
            if rooms.len() == 3 {
                break;
            }
        }
        rooms.sort_by_key(|(_, port)| *port);
        rooms
    }

    /// Runs a command on the master holding `room`'s keys (redis-cli); its output.
    pub fn on_master_of_room(&self, room: &str, args: &[&str]) -> Option<String> {
        cli(self.master_of(relay::room_slot(room))?, args)
    }

    /// The port of the replica of the master at `port`.
    pub fn replica_of(&self, port: u16) -> Option<u16> {
        let node = self.nodes.iter().find(|node| node.child.is_some())?;
        let nodes = cli(node.port, &["CLUSTER", "NODES"])?;
        let lines: Vec<Vec<&str>> = nodes.lines().map(|line| line.split_whitespace().collect()).collect();
        let port_of = |fields: &[&str]| fields.get(1).and_then(|a| a.split(['@', ':']).nth(1)).and_then(|p| p.parse::<u16>().ok());
        let master_id = lines.iter().find(|fields| port_of(fields) == Some(port))?.first()?.to_string();
        lines.iter().find(|fields| fields.get(3) == Some(&master_id.as_str())).and_then(|fields| port_of(fields))
    }

    /// The number of entries in `key`'s stream on the node at `port`, a master or a replica
    /// (READONLY first); None if it does not answer, or the key's slot is not served there.
    pub fn stream_len_on(&self, port: u16, key: &str) -> Option<u64> {
        use std::io::Write;
        let mut child = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(format!("READONLY\nXLEN {key}\n").as_bytes()).ok()?;
        let output = child.wait_with_output().ok()?;
        String::from_utf8_lossy(&output.stdout).lines().last()?.trim().parse().ok()
    }

    /// Moves `slot` (and its keys) from the master at `from` to the master at `to`, as
    /// `redis-cli --cluster reshard` does: IMPORTING/MIGRATING, MIGRATE the keys, then
    /// SETSLOT NODE on every master. Returns once every running node agrees.
    pub fn move_slot(&self, slot: u16, from: u16, to: u16) {
        let id = |port: u16| cli(port, &["CLUSTER", "MYID"]).map(|id| id.trim().to_owned()).expect("node id");
        let (from_id, to_id, slot_arg) = (id(from), id(to), slot.to_string());
        let ok = |port: u16, args: &[&str]| {
            let answer = cli(port, args).unwrap_or_default();
            assert!(answer.trim() == "OK" || answer.trim() == "NOKEY", "{args:?} on {port}: {answer}");
        };
        ok(to, &["CLUSTER", "SETSLOT", &slot_arg, "IMPORTING", &from_id]);
        ok(from, &["CLUSTER", "SETSLOT", &slot_arg, "MIGRATING", &to_id]);
        loop {
            let keys = cli(from, &["CLUSTER", "GETKEYSINSLOT", &slot_arg, "100"]).unwrap_or_default();
            let keys: Vec<&str> = keys.lines().map(str::trim).filter(|key| !key.is_empty()).collect();
            if keys.is_empty() {
                break;
            }
            let to_port = to.to_string();
            let mut args = vec!["MIGRATE", "127.0.0.1", &to_port, "", "0", "5000", "KEYS"];
            args.extend(keys);
            ok(from, &args);
        }
        for port in [to, from] {
            ok(port, &["CLUSTER", "SETSLOT", &slot_arg, "NODE", &to_id]);
        }
        let deadline = Instant::now() + FORM_LIMIT;
        while self.nodes.iter().filter(|node| node.child.is_some()).any(|node| {
            self.masters_seen_by(node.port).iter().any(|(port, ranges)| *port != to && ranges.iter().any(|(a, b)| (*a..=*b).contains(&slot)))
        }) {
            assert!(Instant::now() < deadline, "the cluster did not agree on slot {slot}'s move");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILLs the node at `port`.
    pub fn kill(&mut self, port: u16) {
        if let Some(node) = self.nodes.iter_mut().find(|node| node.port == port) {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}
