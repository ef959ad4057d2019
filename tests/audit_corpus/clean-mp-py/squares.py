"""Clean: multiprocessing workers send results back over a Pipe and are joined."""
import multiprocessing as mp


def worker(n, conn):
    conn.send(n * n)
    conn.close()


if __name__ == "__main__":
    procs, conns = [], []
    for n in range(3):
        parent_end, child_end = mp.Pipe()
        p = mp.Process(target=worker, args=(n, child_end))
        p.start()
        child_end.close()
        procs.append(p)
        conns.append(parent_end)
    print("squares:", sorted(c.recv() for c in conns), flush=True)
    for p in procs:
        p.join()
