"""ensure_image: batches started side by side in one process build a missing image once, not once each."""
import threading
import time

from docker.errors import ImageNotFound

from grader.run import image


class FakeImages:
    def __init__(self):
        self.built: list[str] = []
        self.lock = threading.Lock()

    def get(self, tag):
        with self.lock:
            if tag not in self.built:
                raise ImageNotFound(tag)

    def build(self, *, tag, **_):
        time.sleep(0.2)                  # long enough for every other thread to find the image missing
        with self.lock:
            self.built.append(tag)


class FakeClient:
    def __init__(self):
        self.images = FakeImages()


def test_threads_that_find_the_image_missing_build_it_once(monkeypatch):
    monkeypatch.setattr(image, "ensure_base", lambda client: None)
    monkeypatch.setattr(image, "_say", lambda text: None)
    client = FakeClient()
    tags = []
    threads = [threading.Thread(target=lambda: tags.append(image.ensure_image(client))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(client.images.built) == 1 and tags == client.images.built * 4
