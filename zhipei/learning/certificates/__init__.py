"""Completion certificates (培训合格证明): numbers, issuing rules, PDF and public verification."""
