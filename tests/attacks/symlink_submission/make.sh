#!/bin/sh
# A submission that is a symbolic link: the grader's head process (not sandboxed) reads its
# target. Flat layout: SUBS/mallory.ipynb -> the instructor's solution = 16/19 as "mallory".
# In a student folder: SUBS/eve/<hw>.ipynb -> ../zed/<hw>.ipynb is graded as "zed" (the id came
# from the resolved path) and pushes the real zed to "zed-2".
REPO=${REPO:-$(cd "$(dirname "$0")/../../.." && pwd)}
SUBS=${1:-/tmp/symlink_class}
HW=hw1_lime_from_scratch
mkdir -p "$SUBS/zed" "$SUBS/eve"
cp "$REPO/solutions/$HW/$HW.ipynb" "$SUBS/zed/$HW.ipynb"
ln -sf "$REPO/solutions/$HW/$HW.ipynb" "$SUBS/mallory.ipynb"
ln -sf "../zed/$HW.ipynb" "$SUBS/eve/$HW.ipynb"
echo "now: python -m grading $SUBS --jobs 1"
