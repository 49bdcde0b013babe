use cacheplan::redis::evict::MaxmemoryPolicy;
use cacheplan::redis::shard::RedisConfig;
use cacheplan::replay::redis_model::RedisReplayCache;
use cacheplan::replay::ReplayCache;
use cacheplan::workload::trace::TraceRequest;
use std::io::{BufRead, BufReader};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let maxmem: u64 = args[1].parse().unwrap();
    let policy = MaxmemoryPolicy::parse(&args[2]).unwrap();
    let samples: u32 = args[3].parse().unwrap();
    let frac = &args[4];
    let base: u64 = args.get(5).map(|s| s.parse().unwrap()).unwrap_or(977_368);
    let seed: u64 = args.get(6).map(|s| s.parse().unwrap()).unwrap_or(1);
    let dir = "/work/shared/fidelity/redis7/";
    let f = std::fs::File::open(format!("{dir}zipf0.8-K100000-N1000000-v512-seed42.csv.gz")).unwrap();
    let r = BufReader::new(flate2::read::MultiGzDecoder::new(f));
    let tl = std::fs::File::open(format!("{dir}timeline-a0.8-{frac}-{}-s{samples}.csv.gz", args[2])).unwrap();
    let tl = BufReader::new(flate2::read::MultiGzDecoder::new(tl));
    let mut times = vec![];
    for line in tl.lines().skip(1) {
        let line = line.unwrap();
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        times.push((v[0] as u64, v[1], v[2]));
    }
    let cfg = RedisConfig { maxmemory_bytes: maxmem, maxmemory_policy: policy, maxmemory_samples: samples, base_used_memory_bytes: base, ..RedisConfig::default() };
    let mut c = RedisReplayCache::new(cfg, seed);
    let (mut hits, mut n, mut hits2) = (0u64, 0u64, 0u64);
    for (i, line) in r.lines().skip(1).enumerate() {
        let line = line.unwrap();
        let mut it = line.split(',');
        let key = it.next().unwrap();
        let vs: u32 = it.next().unwrap().parse().unwrap();
        let id: u64 = key[2..].parse().unwrap();
        let b = &times[i / 100];
        let frac_in = (i % 100) as f64 / 100.0;
        let t = b.1 + (b.2 - b.1) * frac_in;
        let req = TraceRequest { obj_id: id, key_size: key.len() as u32, value_size: vs, obj_size: vs, ..Default::default() };
        let h = c.access(&req, t as u64);
        n += 1;
        if h { hits += 1; if i >= 500_000 { hits2 += 1; } }
    }
    let e = c.end_figures();
    println!("{} {} s{} hit {:.4} after {:.4} keys {:?} used {:?} evicted {:?}", maxmem, args[2], samples, hits as f64 / n as f64, hits2 as f64 / 500_000.0, e.keys_end, e.used_memory_end, e.evicted_keys);
}
