"""The vision worker's pipeline, one stage per module:

capture.py (read frames, keep only the latest, watchdog) → motion.py (skip unchanged
frames) → vision/detectors (people boxes) → zones.py (feet in polygons, debounced) and
tracker.py (track ids from bytetrack.py, Ultralytics' ByteTrack, or its own IoU
tracker; entrance line crossings) → aggregate.py (per-minute figures) → sender.py
(batches to /api/v1/vision/counts, buffered on disk). analyzer.py ties the per-frame
stages together for both the worker (camera.py) and `manage.py count_video`.
"""
