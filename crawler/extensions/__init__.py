"""Extensions: resume reconciliation, summary, run report, memory."""
