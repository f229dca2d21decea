"""A loopback Discord (REST and gateway) for running the real bot process in tests."""

from tests.e2e.emulator.server import Emulator

__all__ = ["Emulator"]
