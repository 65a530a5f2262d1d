//! A real Redis Cluster for `loadgen cluster-scale`: Debian `redis-server` processes on free
//! loopback ports (each in its own temp dir, `--cluster-enabled yes`, append-only file with
//! `appendfsync everysec` as a production shard would run, no RDB saves), joined by
//! `redis-cli --cluster create` into `masters` masters with `replicas` replicas each. The
//! benchmark needs each node's process id (its CPU seconds come from /proc) and the slot
//! ranges of each master (to place rooms on every shard), which is why this is not the
//! tests crate's cluster (`tests/src/redis_cluster.rs`, built for failover and resharding
//! tests, panicking where a benchmark reports an error). Every node is killed on drop, on
//! every path, and with the load generator if a signal ends it, so a failed run leaves
//! nothing running.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::relay_process::{die_with_parent, proc_figures};
use crate::report::LoadError;

/// Longest the cluster may take to form (every node answering `cluster_state:ok`).
const FORM_LIMIT: Duration = Duration::from_secs(60);

/// One redis-server of the cluster.
struct Node {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

/// A master: its port, process id and the slot ranges it owns.
#[derive(Debug, Clone)]
pub struct Master {
    pub port: u16,
    pub pid: u32,
    pub ranges: Vec<(u16, u16)>,
}

pub struct RedisCluster {
    nodes: Vec<Node>,
    masters: Vec<Master>,
}

fn fail(what: impl std::fmt::Display) -> LoadError {
    LoadError::Relay(format!("redis cluster: {what}"))
}

/// `redis-cli -p port args…`: its output, or None if it could not run or failed.
fn cli(port: u16, args: &[&str]) -> Option<String> {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A free loopback port whose cluster bus port (port + 10000) is free too.
fn free_cluster_port(taken: &[u16]) -> Result<u16, LoadError> {
    for _ in 0..100 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(fail)?.port();
        if port < 55_000 && !taken.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return Ok(port);
        }
    }
    Err(fail("no free pair of ports (node, node + 10000) after 100 tries"))
}

impl RedisCluster {
    /// Starts `masters × (1 + replicas)` nodes and forms the cluster; returns once every node
    /// says `cluster_state:ok` and sees `masters` masters.
    pub fn start(server: &Path, masters: usize, replicas: usize) -> Result<RedisCluster, LoadError> {
        if masters < 3 {
            return Err(fail("redis-cli --cluster create needs at least 3 masters"));
        }
        let mut cluster = RedisCluster { nodes: Vec::new(), masters: Vec::new() };
        let mut ports = Vec::new();
        for _ in 0..masters * (1 + replicas) {
            let port = free_cluster_port(&ports)?;
            ports.push(port);
            let dir = tempfile::tempdir().map_err(fail)?;
            let child = die_with_parent(&mut Command::new(server))
                .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--cluster-enabled", "yes"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf"), "--cluster-require-full-coverage", "no"])
                .args(["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""])
                .args(["--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning"])
                .arg("--dir")
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| fail(format!("cannot start {}: {e}", server.display())))?;
            cluster.nodes.push(Node { child, port, _dir: dir });
        }
        let deadline = Instant::now() + FORM_LIMIT;
        for port in &ports {
            while cli(*port, &["PING"]).is_none_or(|answer| answer.trim() != "PONG") {
                if Instant::now() > deadline {
                    return Err(fail(format!("node {port} did not answer PING")));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let addresses: Vec<String> = ports.iter().map(|port| format!("127.0.0.1:{port}")).collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .map_err(|e| fail(format!("redis-cli --cluster create: {e}")))?;
        if !created.success() {
            return Err(fail(format!("redis-cli --cluster create failed: {created}")));
        }
        cluster.wait_until_ok(masters, deadline)?;
        Ok(cluster)
    }

    /// Waits until every node says `cluster_state:ok`, sees `masters` masters, and every
    /// replica's link to its master is up; then records the masters.
    fn wait_until_ok(&mut self, masters: usize, deadline: Instant) -> Result<(), LoadError> {
        for port in self.nodes.iter().map(|node| node.port) {
            loop {
                let ok = cli(port, &["CLUSTER", "INFO"]).is_some_and(|info| info.contains("cluster_state:ok"))
                    && cli(port, &["INFO", "replication"])
                        .is_some_and(|info| info.contains("role:master") || info.contains("master_link_status:up"));
                if ok && masters_in(&cli(port, &["CLUSTER", "NODES"]).unwrap_or_default()).len() == masters {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(fail(format!("node {port} not ok within {} s", FORM_LIMIT.as_secs())));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let port = self.nodes.first().map(|node| node.port).ok_or_else(|| fail("no nodes"))?;
        let nodes = cli(port, &["CLUSTER", "NODES"]).ok_or_else(|| fail("CLUSTER NODES did not answer"))?;
        let mut found = Vec::new();
        for (master_port, ranges) in masters_in(&nodes) {
            let node = self.nodes.iter().find(|node| node.port == master_port);
            let pid = node.map(|node| node.child.id()).ok_or_else(|| fail(format!("master {master_port} is not ours")))?;
            found.push(Master { port: master_port, pid, ranges });
        }
        found.sort_by_key(|master| master.port);
        self.masters = found;
        Ok(())
    }

    /// `--redis` for the relays: every node a seed.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self.nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)).collect();
        format!("redis+cluster://{}", hosts.join(","))
    }

    pub fn masters(&self) -> &[Master] {
        &self.masters
    }

    /// The index (in [`Self::masters`]) of the master owning `slot`.
    pub fn master_of(&self, slot: u16) -> Option<usize> {
        self.masters.iter().position(|master| master.ranges.iter().any(|(a, b)| (*a..=*b).contains(&slot)))
    }

    /// CPU seconds so far of each master, in the order of [`Self::masters`].
    pub fn master_cpu_seconds(&self) -> Vec<f64> {
        self.masters.iter().map(|master| proc_figures(master.pid).cpu_seconds).collect()
    }

    /// CPU seconds so far of all replicas together.
    pub fn replica_cpu_seconds(&self) -> f64 {
        let is_master = |pid: u32| self.masters.iter().any(|master| master.pid == pid);
        self.nodes.iter().map(|node| node.child.id()).filter(|pid| !is_master(*pid)).map(|pid| proc_figures(pid).cpu_seconds).sum()
    }

    /// Clears every master's command statistics (`CONFIG RESETSTAT`).
    pub fn reset_command_stats(&self) -> Result<(), LoadError> {
        for master in &self.masters {
            cli(master.port, &["CONFIG", "RESETSTAT"]).ok_or_else(|| fail(format!("CONFIG RESETSTAT on {}", master.port)))?;
        }
        Ok(())
    }

    /// Calls and microseconds per command since the last reset, summed over the masters
    /// (`INFO commandstats`; Redis times a command's execution only, not its I/O).
    pub fn command_stats(&self) -> Result<CommandStats, LoadError> {
        let mut total = CommandStats::default();
        for master in &self.masters {
            let info = cli(master.port, &["INFO", "commandstats"]).ok_or_else(|| fail(format!("INFO on {}", master.port)))?;
            total.add(&info);
        }
        Ok(total)
    }

    /// Resident memory of each master (bytes), in the order of [`Self::masters`].
    pub fn master_rss_bytes(&self) -> Vec<u64> {
        self.masters.iter().map(|master| proc_figures(master.pid).rss_bytes).collect()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }
}

/// Command statistics: (calls, microseconds) per command name.
#[derive(Debug, Clone, Default)]
pub struct CommandStats(pub std::collections::BTreeMap<String, (u64, u64)>);

impl CommandStats {
    /// Adds the lines of an `INFO commandstats` answer, e.g.
    /// `cmdstat_xread:calls=12,usec=34,usec_per_call=2.83,rejected_calls=0,failed_calls=0`.
    fn add(&mut self, info: &str) {
        for line in info.lines() {
            let Some((name, fields)) = line.trim().strip_prefix("cmdstat_").and_then(|rest| rest.split_once(':')) else { continue };
            let field = |key: &str| {
                fields.split(',').find_map(|f| f.strip_prefix(key).and_then(|v| v.strip_prefix('='))).and_then(|v| v.parse::<u64>().ok())
            };
            let entry = self.0.entry(name.to_owned()).or_default();
            entry.0 += field("calls").unwrap_or(0);
            entry.1 += field("usec").unwrap_or(0);
        }
    }

    pub fn calls(&self, command: &str) -> u64 {
        self.0.get(command).map_or(0, |(calls, _)| *calls)
    }

    /// Microseconds of every command but the benchmark's own (config, info).
    pub fn usec(&self) -> u64 {
        self.0.iter().filter(|(name, _)| !name.starts_with("config") && *name != "info").map(|(_, (_, usec))| usec).sum()
    }
}

/// The masters (port, slot ranges) in a `CLUSTER NODES` answer; failed ones left out.
fn masters_in(nodes: &str) -> Vec<(u16, Vec<(u16, u16)>)> {
    let mut masters = Vec::new();
    for line in nodes.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(flags) = fields.get(2) else { continue };
        if !flags.contains("master") || flags.contains("fail") {
            continue;
        }
        let Some(port) = fields.get(1).and_then(|address| address.split(['@', ':']).nth(1)).and_then(|p| p.parse().ok()) else {
            continue;
        };
        let ranges: Vec<(u16, u16)> = fields
            .iter()
            .skip(8)
            .filter(|range| !range.starts_with('['))
            .filter_map(|range| match range.split_once('-') {
                Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                None => range.parse().ok().map(|slot| (slot, slot)),
            })
            .collect();
        if !ranges.is_empty() {
            masters.push((port, ranges));
        }
    }
    masters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_and_their_slots_are_read_from_cluster_nodes() {
        let nodes = "\
a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:7002@17002 master - 0 0 2 connected 5461-10922 12000
c3 127.0.0.1:7003@17003 master,fail - 0 0 3 connected 10923-16383
d4 127.0.0.1:7004@17004 slave a1 0 0 1 connected
e5 127.0.0.1:7005@17005 master - 0 0 0 connected [93->-b2]
";
        let masters = masters_in(nodes);
        assert_eq!(masters, vec![(7001, vec![(0, 5460)]), (7002, vec![(5461, 10922), (12000, 12000)])]);
    }

    #[test]
    fn command_stats_add_up_over_masters() {
        let mut stats = CommandStats::default();
        let info = "# Commandstats\r\ncmdstat_xread:calls=12,usec=34,usec_per_call=2.83,rejected_calls=0,failed_calls=0\r\ncmdstat_info:calls=1,usec=50,usec_per_call=50.00\r\n";
        stats.add(info);
        stats.add("cmdstat_xread:calls=3,usec=6,usec_per_call=2.00\ncmdstat_xadd:calls=5,usec=10,usec_per_call=2.00");
        assert_eq!((stats.calls("xread"), stats.calls("xadd"), stats.calls("ping")), (15, 5, 0));
        assert_eq!(stats.usec(), 50);
    }
}
