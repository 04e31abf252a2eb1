"""Cohorts at scale: thousands of week-long minute-level recordings, serial and on dask.

    python benchmarks/cohort_scale.py                 # 2,000 recordings (~15 min on 2 cores)
    python benchmarks/cohort_scale.py --quick         # 100 recordings, a smoke run

Writes ``benchmarks/results/cohort_scale.md`` (tables, the extrapolation and the
command), ``cohort_scale.json`` and ``cohort_scale.png``.

1. **Data**: ``--n-recordings`` synthetic heart-rate recordings, one CSV each
   (``time,heart_rate``, one row a minute, about 7 days from a random clock time),
   with the faults of real cohorts: one-sided motion bursts, gaps of 30 min to 6 h
   (rows missing), off-wrist days (a whole day of rows missing, or 16 hours of empty
   values), a few recordings too short for one day, and a few unreadable files
   (binary garbage, a header only, a timestamp that is no time). Seeded
   (``--random-state``); written once to ``--data`` and reused.
2. **Runs**: the command line as a user runs it, ``sklearn-r2t fit DATA --model
   heart_rate --method M --output OUT``, in a fresh process, serially and with
   ``--workers 2``, for ``M`` = ``bisquare-auto`` and ``r2t``. Wall time from the
   command's start to its exit (imports and the cluster's start included), files per
   second, the per-file seconds of the manifest, and the peak resident memory of
   every process (sampled every 0.2 s with psutil; the workers are the cluster's
   child processes).
3. **Identical results**: each 2-worker dataset against the serial one, bit for bit.
4. **Resume**: a 2-worker run killed (SIGKILL, the whole process group) once half
   the files are done, then started again: it must fit exactly the files that were
   not finished, and end with the serial run's results.
5. **Profile**: where one file's time goes (reading, resampling into windows,
   fitting, the table and its Parquet part), in this process on the first 200
   readable recordings; the basis of the extrapolation to 100,000 recordings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
METHODS = ("bisquare-auto", "r2t")


# --------------------------------------------------------------------------- data
def write_cohort(folder: Path, n: int, seed: int) -> dict:
    """``n`` week-long minute-level recordings with faults; returns what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"n": n, "seed": seed, "version": 1}
    stamp = folder / "_spec.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("spec") == spec:
        return json.loads(stamp.read_text())
    for f in folder.glob("*.csv"):
        f.unlink()
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["ok", "unreadable", "short"], size=n, p=[0.99, 0.005, 0.005])
    counts = {"off_wrist_day_missing": 0, "off_wrist_day_empty": 0}
    for i in range(n):
        r = np.random.default_rng([seed, i])
        path = folder / f"rec{i:06d}.csv"
        if kinds[i] == "unreadable":
            form = i % 3
            if form == 0:
                path.write_bytes(r.bytes(4096))
            elif form == 1:
                path.write_text("time,heart_rate\n")
            else:
                path.write_text("time,heart_rate\n2024-01-01 00:00:00,70\nn/a,71\n")
            continue
        start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(r.integers(0, 300)),
                                                         minutes=int(r.integers(0, 1440)))
        n_min = 360 if kinds[i] == "short" else 7 * 1440 + int(r.integers(-600, 600))
        minutes = np.arange(n_min)
        hours = (start.hour + start.minute / 60 + minutes / 60) % 24
        mesor, amp, acro = r.uniform(55, 80), r.uniform(4, 14), r.uniform(12, 20)
        hr = mesor + amp * np.cos(2 * np.pi * (hours - acro) / 24) + r.normal(0, 2.5, n_min)
        # one-sided motion bursts: about 8 % of the minutes, 5 to 30 minutes each
        for s in r.integers(0, n_min, size=n_min // 300):
            hr[s : s + r.integers(5, 30)] += r.uniform(15, 45)
        keep = np.ones(n_min, bool)
        for _ in range(r.integers(0, 4)):  # gaps: rows missing
            s = r.integers(0, n_min)
            keep[s : s + r.integers(30, 360)] = False
        if n_min > 3 * 1440 and r.random() < 0.3:  # a day off the wrist, no rows
            d = r.integers(1, 6) * 1440
            keep[d : d + 1440] = False
            counts["off_wrist_day_missing"] += 1
        elif n_min > 3 * 1440 and r.random() < 0.2:  # on the charger: empty values
            d = r.integers(1, 6) * 1440
            hr[d : d + 960] = np.nan
            counts["off_wrist_day_empty"] += 1
        times = (start + pd.to_timedelta(minutes[keep], unit="min")).strftime(
            "%Y-%m-%d %H:%M:%S")
        pd.DataFrame({"time": times, "heart_rate": np.round(hr[keep], 1)}).to_csv(
            path, index=False)
    info = {"spec": spec, "unreadable": int((kinds == "unreadable").sum()),
            "short": int((kinds == "short").sum()), **counts}
    stamp.write_text(json.dumps(info))
    return info


# --------------------------------------------------------------------------- runs
def run_cli(data: Path, out: Path, method: str, workers: int | None, *,
            kill_when: int | None = None) -> dict:
    """The command line in a fresh process; wall time and every process's peak RSS."""
    import psutil

    cmd = [sys.executable, "-m", "sklearn_r2t", "fit", str(data), "--model", "heart_rate",
           "--method", method, "--output", str(out), "--no-progress"]
    if workers:
        cmd += ["--workers", str(workers), "--memory-limit", "2GB"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    top = psutil.Process(proc.pid)
    peaks: dict[int, tuple[float, str]] = {}
    cpu: dict[int, float] = {}  # last user + system seconds seen, per process
    killed = None
    while proc.poll() is None:
        try:
            for p in [top, *top.children(recursive=True)]:
                try:
                    rss = p.memory_info().rss / 2**20
                    role = "main" if p.pid == proc.pid else "child"
                    if rss > peaks.get(p.pid, (0, ""))[0]:
                        peaks[p.pid] = (rss, role)
                    t = p.cpu_times()
                    cpu[p.pid] = t.user + t.system
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        if kill_when is not None and killed is None:
            done = len(list((out / "_done").glob("*.json"))) if (out / "_done").is_dir() else 0
            if done >= kill_when:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = done
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    children = sorted((v[0] for v in peaks.values() if v[1] == "child"), reverse=True)
    worker_cpu = sorted((cpu[pid] for pid, v in peaks.items() if v[1] == "child"),
                        reverse=True)[: workers or 0]
    result = {
        "method": method, "workers": workers or 0, "wall_s": wall, "returncode": proc.returncode,
        "peak_main_mb": max((v[0] for v in peaks.values() if v[1] == "main"), default=0.0),
        # the workers: the largest child processes (the rest is multiprocessing's tracker)
        "peak_workers_mb": children[: workers or 0],
        # CPU seconds (sampled every 0.2 s, so the last 0.2 s may be missing)
        "cpu_main_s": cpu.get(proc.pid, 0.0), "cpu_workers_s": worker_cpu,
        "stdout": stdout.strip().splitlines()[-2:], "stderr_tail": stderr.strip()[-600:],
    }
    if killed is not None:
        result["killed_at_done"] = killed
    manifest = out / "manifest.csv"
    if manifest.is_file() and killed is None:
        m = pd.read_csv(manifest, keep_default_na=False)
        result.update(
            files=len(m), files_per_s=len(m) / wall,
            status={k: int(v) for k, v in m["status"].value_counts().items()},
            days_fitted=int(m["days_fitted"].sum()), days_skipped=int(m["days_skipped"].sum()),
            file_s_mean=float(m["seconds"].astype(float).mean()),
            file_s_median=float(m["seconds"].astype(float).median()),
            file_s_ok_mean=float(m.loc[m["status"] == "ok", "seconds"].astype(float).mean()),
            file_cpu_s_mean=float(m["cpu_seconds"].astype(float).mean()),
            file_cpu_s_median=float(m["cpu_seconds"].astype(float).median()),
        )
    return result


def read_dataset(out: Path) -> pd.DataFrame:
    frame = pd.read_parquet(out / "parameters")
    keys = ["source", "channel", "window_start", "method", "parameter"]
    return frame.sort_values(keys).reset_index(drop=True)


def identical(a: Path, b: Path, subset: bool = False) -> bool:
    """Every value of ``a`` equal to ``b``'s bit for bit (``subset``: ``a``'s files)."""
    left, right = read_dataset(a), read_dataset(b)
    if subset:
        right = right[right["source"].isin(set(left["source"]))].reset_index(drop=True)
    try:
        pd.testing.assert_frame_equal(left, right, check_exact=True)
    except AssertionError:
        return False
    return True


# --------------------------------------------------------------------------- profile
def profile(data: Path, n_files: int) -> dict:
    """CPU seconds per file in each step of the one reading path (this thread's CPU
    time: what the step costs, whatever else the machine is doing)."""
    import torch

    sys.path.insert(0, str(ROOT))
    from sklearn_r2t import R2TRegressor, SymbolicLeastSquares
    from sklearn_r2t.cli._fit import _tidy_rows
    from sklearn_r2t.recordings import make_windows, read_recording
    from sklearn_r2t.symbolic import HeartRate

    torch.set_num_threads(1)
    model = HeartRate()
    ests = {"bisquare-auto": SymbolicLeastSquares(model, loss="bisquare", f_scale="auto"),
            "r2t": R2TRegressor(model, pretrained=True)}
    for est in ests.values():
        est.fit(np.zeros((1, 96)))
    steps = {"read": 0.0, "windows": 0.0, "fit bisquare-auto": 0.0, "fit r2t": 0.0,
             "table + Parquet part": 0.0}
    files = sorted(data.glob("rec*.csv"))
    done = 0
    tmp = data.parent / "_profile_part.parquet"
    for path in files:
        if done == n_files:
            break
        t0 = time.thread_time()
        try:
            frame = read_recording(path)
        except Exception:  # the unreadable files: not what is profiled
            continue
        t1 = time.thread_time()
        win = make_windows(frame, ["heart_rate"])
        t2 = time.thread_time()
        if win.X.shape[0] == 0:
            continue
        steps["read"] += t1 - t0
        steps["windows"] += t2 - t1
        for name, est in ests.items():
            t3 = time.thread_time()
            params = est.transform(win.X)
            steps[f"fit {name}"] += time.thread_time() - t3
        t4 = time.thread_time()
        rows = _tidy_rows(path.name, "heart_rate", win, "bisquare-auto", "Bisquare (auto)",
                          params, model, "heart_rate")
        pd.DataFrame(rows).to_parquet(tmp, index=False)
        steps["table + Parquet part"] += time.thread_time() - t4
        done += 1
    tmp.unlink(missing_ok=True)
    return {"files": done, "ms_per_file": {k: 1e3 * v / done for k, v in steps.items()}}


# --------------------------------------------------------------------------- report
def figure(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    runs = results["runs"]
    labels = [f"{r['method']}\n{'serial' if not r['workers'] else '2 workers'}" for r in runs]
    ax1.bar(labels, [r["files_per_s"] for r in runs],
            color=["0.6" if not r["workers"] else "C0" for r in runs])
    ax1.set_ylabel("recordings per second (wall, whole command)")
    ax1.set_title(f"{results['n_recordings']} week-long minute recordings\n"
                  "(wall time on a shared 2-core machine)", fontsize=10)
    prof = results["profile"]["ms_per_file"]
    bottom = 0.0
    for k in ("read", "windows", "fit bisquare-auto", "table + Parquet part"):
        ax2.bar(["bisquare"], [prof[k]], bottom=bottom, label="fit" if k.startswith("fit") else k)
        bottom += prof[k]
    bottom = 0.0
    for i, k in enumerate(("read", "windows", "fit r2t", "table + Parquet part")):
        ax2.bar(["R2T"], [prof[k]], bottom=bottom, color=f"C{i}")
        bottom += prof[k]
    ax2.set_ylabel("CPU ms per recording (one thread)")
    ax2.set_title("where one recording's time goes")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(results: dict, path: Path) -> None:
    lines = [
        "# Cohorts at scale: week-long minute-level recordings, serial and on dask", "",
        f"Command: `{results['command']}`  ",
        f"Machine: {results['machine']}; load average at start {results['load_start']}, "
        f"at end {results['load_end']} (the machine is shared: ratios from the same run "
        "matter, absolute times less).", "",
        f"Data: {results['n_recordings']} recordings (~10,000 rows each), "
        f"{results['data']['unreadable']} unreadable, {results['data']['short']} too short "
        f"for a day, {results['data']['off_wrist_day_missing']} with an off-wrist day "
        f"without rows, {results['data']['off_wrist_day_empty']} with 16 empty hours; every "
        "recording has motion bursts and 0-3 gaps.", "",
        "| method | workers | wall (s) | recordings/s | speed-up | per-file s (mean, manifest) "
        "| ok / skipped / failed | days fitted / skipped | peak RSS main (MB) | "
        "peak RSS per worker (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    serial = {r["method"]: r for r in results["runs"] if not r["workers"]}
    for r in results["runs"]:
        s = r["status"]
        speed = r["files_per_s"] / serial[r["method"]]["files_per_s"]
        workers = ", ".join(f"{m:.0f}" for m in r["peak_workers_mb"]) or "-"
        lines.append(
            f"| {r['method']} | {r['workers'] or 'serial'} | {r['wall_s']:.1f} | "
            f"{r['files_per_s']:.1f} | {speed:.2f}x | {r['file_s_mean']:.4f} | "
            f"{s.get('ok', 0)} / {s.get('skipped', 0)} / {s.get('failed', 0)} | "
            f"{r['days_fitted']} / {r['days_skipped']} | {r['peak_main_mb']:.0f} | {workers} |")
    stem = path.stem
    lines += ["", f"![recordings per second, and where a recording's time goes]({stem}.png)",
              "", "Identical results (2 workers against serial, every value bit for bit): "
              + ", ".join(f"{m}: {'yes' if v else 'NO'}" for m, v in
                          results["identical"].items()), ""]
    res = results["resume"]
    lines += [
        "## A run killed half-way, then started again", "",
        f"`--workers 2`, bisquare, the first {res['n']} recordings: killed (SIGKILL to "
        f"the process group) with {res['done_at_kill']} of {res['n']} files finished; the second "
        f"run fitted {res['fitted_after_restart']} files (expected "
        f"{res['expected_after_restart']}: the unfinished ones) in {res['wall_s']:.1f} s; "
        f"half-written temporary files left: {res['tmp_left']}; final results identical to "
        f"the uninterrupted serial run: {'yes' if res['identical_to_serial'] else 'NO'}.", "",
    ]
    lines += ["## Targets", "", *targets(results), ""]
    prof = results["profile"]
    lines += [
        f"## Where one recording's time goes ({prof['files']} recordings, one thread, "
        "CPU time)", "",
        "| step | CPU ms per recording |", "|---|---|",
        *[f"| {k} | {v:.1f} |" for k, v in prof["ms_per_file"].items()], "",
    ]
    lines += ["## Extrapolation to 100,000 recordings", "", results["extrapolation"], ""]
    path.write_text("\n".join(lines))


def targets(results: dict) -> list[str]:
    """Each target of the issue, measured; CPU-time projections labelled as such."""
    out = []
    for method in METHODS:
        one = next(r for r in results["runs"] if r["method"] == method and not r["workers"])
        two = next(r for r in results["runs"] if r["method"] == method and r["workers"])
        measured = two["files_per_s"] / one["files_per_s"]
        # on 2 free cores: serial takes its own CPU time; 2 workers take half of all the
        # CPU the run used (workers + the scheduler and client in the main process)
        t1 = one["cpu_main_s"]
        t2 = (two["cpu_main_s"] + sum(two["cpu_workers_s"])) / 2
        out.append(
            f"- **2 workers >= 1.7x serial ({method})**: measured {measured:.2f}x wall on "
            f"this shared machine ({one['wall_s']:.0f} s serial, {two['wall_s']:.0f} s with "
            f"2 workers, start-up included). CPU seconds used: serial {t1:.0f}; 2 workers "
            f"{sum(two['cpu_workers_s']):.0f} + {two['cpu_main_s']:.0f} in the main process "
            f"(scheduler, client). On 2 free cores that is {t1 / t2:.2f}x (projection from "
            "the CPU seconds, not a measurement).")
        out.append(
            f"- **peak memory per worker < 1 GB ({method})**: "
            + ", ".join(f"{m:.0f} MB" for m in two["peak_workers_mb"])
            + f" (main process {two['peak_main_mb']:.0f} MB).")
        per = two["file_cpu_s_median"]
        out.append(
            f"- **>= 20 recordings/s per worker ({method}, reading and resampling "
            f"included)**: per-file CPU time in the workers (manifest) median "
            f"{per * 1e3:.0f} ms, mean {two['file_cpu_s_mean'] * 1e3:.0f} ms (the first file "
            f"of each worker carries its imports): {1 / per:.0f} recordings per CPU-second "
            f"per worker; per-file wall median {two['file_s_median'] * 1e3:.0f} ms on this "
            "shared machine.")
    res = results["resume"]
    ok = res["fitted_after_restart"] == res["expected_after_restart"]
    out.append(f"- **killed run resumes with only the missing files**: "
               f"{'met' if ok else 'MISSED'} ({res['fitted_after_restart']} fitted, "
               f"{res['expected_after_restart']} expected).")
    out.append("- **identical results**: " + ", ".join(
        f"{m} {'bit for bit' if v else 'DIFFERENT'}" for m, v in results["identical"].items()))
    return out


def extrapolate(results: dict) -> str:
    prof = results["profile"]["ms_per_file"]
    io = prof["read"] + prof["windows"] + prof["table + Parquet part"]
    out = []
    for method in METHODS:
        two = next(r for r in results["runs"] if r["method"] == method and r["workers"])
        per_file = two["file_cpu_s_mean"]  # CPU seconds a file costs a worker, all included
        fit = prof[f"fit {method}"]
        share = io / (io + fit)
        hours_one = 100_000 * per_file / 3600
        out.append(
            f"- **{method}**: {per_file * 1e3:.0f} ms of CPU per recording on a worker "
            f"(manifest, mean over the 2-worker run), so 100,000 recordings take about "
            f"{hours_one:.1f} h on one worker and {hours_one * 3600 / 100:.0f} s on 100 "
            f"workers (one core each, start-up aside), if the shared file system keeps "
            f"up: each worker "
            f"reads about {270 / per_file / 1024:.1f} MB/s of CSV. In the profile, reading, "
            f"resampling and writing take {io:.0f} ms and the fit {fit:.0f} ms: "
            f"{share:.0%} of a recording's time is I/O and parsing, not fitting.")
    out.append(
        "- The scheduler sees one task per batch of up to 16 recordings (6,250 tasks for "
        "100,000 recordings; at most 2 per worker thread in flight, so neither the "
        "scheduler's memory nor the client's grows with the cohort). Each task's result is "
        "a few small records; the parameters go straight from the worker to the "
        "recording's Parquet part.")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-recordings", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="100 recordings")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path("/tmp/sklearn_r2t_cohort_scale"))
    parser.add_argument("--profile-files", type=int, default=200)
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the .md and .png from the saved .json")
    args = parser.parse_args()
    if args.report_only:
        stem = "cohort_scale_quick" if args.quick else "cohort_scale"
        results = json.loads((RESULTS / f"{stem}.json").read_text())
        results["extrapolation"] = extrapolate(results)
        report(results, RESULTS / f"{stem}.md")
        figure(results, RESULTS / f"{stem}.png")
        return
    n = 100 if args.quick else args.n_recordings
    RESULTS.mkdir(exist_ok=True)
    data = args.data / f"n{n}-seed{args.random_state}"
    work = args.data / "runs"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    results = {
        "command": "python benchmarks/cohort_scale.py" + (" --quick" if args.quick else
                                                          f" --n-recordings {n}"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "load_start": [round(x, 1) for x in os.getloadavg()], "n_recordings": n,
    }
    t0 = time.perf_counter()
    results["data"] = write_cohort(data, n, args.random_state)
    print(f"data: {n} recordings in {time.perf_counter() - t0:.0f} s", flush=True)
    runs = []
    for method in METHODS:
        for workers in (None, 2):
            r = run_cli(data, work / f"{method}-{workers or 0}", method, workers)
            print(json.dumps({k: v for k, v in r.items() if k != "stderr_tail"}), flush=True)
            runs.append(r)
    results["runs"] = runs
    results["identical"] = {m: identical(work / f"{m}-0", work / f"{m}-2") for m in METHODS}
    # resume: kill half-way, start again
    out = work / "resume"
    subset = data / "rec000[0-4]??.csv" if n >= 500 else data  # the first 500 recordings
    n_sub = min(n, 500)
    first = run_cli(subset, out, "bisquare-auto", 2, kill_when=n_sub // 2)
    records = [json.loads(f.read_text()) for f in (out / "_done").glob("*.json")]
    done_after_kill = sum(r["status"] in ("ok", "skipped") for r in records)
    restart = time.time()
    time.sleep(0.05)
    second = run_cli(subset, out, "bisquare-auto", 2)
    fitted = [f for f in (out / "_done").glob("*.json") if f.stat().st_mtime > restart]
    results["resume"] = {
        "done_at_kill": done_after_kill, "killed_returncode": first["returncode"],
        # failed files are tried again too: they were not finished
        "n": n_sub, "fitted_after_restart": len(fitted),
        "expected_after_restart": n_sub - done_after_kill,
        "wall_s": second["wall_s"], "status": second.get("status"),
        "tmp_left": len(list((out / "parameters").glob(".*.tmp"))),
        "identical_to_serial": identical(out, work / "bisquare-auto-0", subset=True),
    }
    print(json.dumps(results["resume"]), flush=True)
    results["profile"] = profile(data, min(args.profile_files, n))
    print(json.dumps(results["profile"]), flush=True)
    results["load_end"] = [round(x, 1) for x in os.getloadavg()]
    results["extrapolation"] = extrapolate(results)
    stem = "cohort_scale_quick" if args.quick else "cohort_scale"
    (RESULTS / f"{stem}.json").write_text(json.dumps(results, indent=1))
    report(results, RESULTS / f"{stem}.md")
    figure(results, RESULTS / f"{stem}.png")
    print(f"written: {RESULTS / stem}.md/.json/.png")


if __name__ == "__main__":
    main()
