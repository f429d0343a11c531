"""Pulumi dynamic provider for the Open Telekom Cloud / Huawei Cloud classic ELB listener.

Kept light: importing :mod:`provider.spec` (as the fake does) must not pay for the Pulumi SDK.
"""
