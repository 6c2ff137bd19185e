#!/usr/bin/env python3
"""The login program BusyBox telnetd runs in tests/integration/test_bench_telnet.py
(busybox telnetd -l THIS): a BusyBox-like login and prompt that answers Mirai's dialogue from
canned text (telnet_fakes.FakeShell). It runs no command and gives no shell."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import telnet_fakes  # noqa: E402

if __name__ == '__main__':
    telnet_fakes.login_main()
