"""The fake service itself: state, IAM, faults, the API and its control plane; no HTTP library."""
