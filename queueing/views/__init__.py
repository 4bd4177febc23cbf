"""The pages: home and hall pages, the kiosk, the window console, the calling display."""
