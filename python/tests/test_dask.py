"""Scale-out on Dask: a LocalCluster of two worker processes gives the serial results, in input
order, with both workers working; results stream to JSON Lines and a cut file is resumed."""

import json

import pytest
from distributed import Client, LocalCluster, get_task_stream

import adgap
from adgap.dask import detect_paths


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_two_workers_give_the_serial_results_in_order(client, model, scenes, photos, broken,
                                                      tmp_path):
    paths = scenes + [broken[0]] + photos + [broken[2]]
    serial = adgap.load(model, reader="none").detect_files(paths)
    assert sum(len(r.get("detections", [])) for r in serial) >= 5
    jsonl = tmp_path / "out.jsonl"
    with get_task_stream(client) as ts:
        got = detect_paths(paths, model, reader="none", client=client, jsonl=str(jsonl), group=1)
    assert got == serial
    assert [json.loads(x) for x in jsonl.read_text().splitlines()] == serial
    workers = {t["worker"] for t in ts.data}
    assert len(workers) == 2, workers  # both worker processes did work
    assert len(ts.data) == len(paths)
    # Each worker loaded the model once, not once per task.
    loads = client.run(lambda: __import__("adgap.dask").dask._loads)
    assert sorted(loads.values()) == [1, 1], loads

    # Options reach the workers (a new setting: one more load, on the worker that ran it).
    one = detect_paths(paths[:3], model, reader="none", client=client, scales=[1], min_score=0.9)
    assert one == adgap.load(model, scales=[1], min_score=0.9, reader="none").detect_files(paths[:3])
    loads = client.run(lambda: __import__("adgap.dask").dask._loads)
    assert sorted(loads.values()) == [1, 2], loads


def test_a_cut_jsonl_file_is_resumed(client, model, scenes, tmp_path):
    paths = scenes
    want = adgap.load(model, reader="none").detect_files(paths)
    jsonl = tmp_path / "cut.jsonl"
    detect_paths(paths, model, reader="none", client=client, jsonl=str(jsonl), group=2)
    lines = jsonl.read_text().splitlines()
    jsonl.write_text("\n".join(lines[:3]) + "\n" + lines[3][:7])  # killed while writing line 4
    with get_task_stream(client) as ts:
        got = detect_paths(paths, model, reader="none", client=client, jsonl=str(jsonl), resume=True, group=1)
    assert got == want
    assert len(ts.data) == len(paths) - 3  # only the images not in the file were processed
    assert [json.loads(x) for x in jsonl.read_text().splitlines()] == want


def test_without_a_client_a_local_cluster_is_started(model, scenes):
    got = detect_paths(scenes[:4], model, reader="none", workers=2)
    assert got == adgap.load(model, reader="none").detect_files(scenes[:4])


def test_bad_arguments(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        detect_paths(["a.png"], str(tmp_path / "nope.safetensors"))
    with pytest.raises(TypeError, match="list of paths"):
        detect_paths("a.png", model)
    with pytest.raises(ValueError, match="resume needs"):
        detect_paths(["a.png"], model, reader="none", resume=True)
    with pytest.raises(ValueError, match="group"):
        detect_paths(["a.png"], model, reader="none", group=0)
