"""Stage 4, score: turn a harness report into points with the rubric, and rescore stored reports."""
