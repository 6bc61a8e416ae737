#!/bin/sh
# A class where mallory's own folder holds a folder named after her classmate zed, with a blank
# notebook in it. Before the fix that file was graded as student 'zed' (it sorts first), and
# zed's own solved notebook became 'zed-2': the gradebook row and zed.html were mallory's file.
# usage: sh tests/attacks/nested_classmate_folder/make.sh SUBS   (run from the repository root)
set -e
H=hw7_explain_your_model
mkdir -p "$1/zed" "$1/mallory/zed"
cp solutions/$H/$H.ipynb "$1/zed/"
cp solutions/$H/$H.ipynb "$1/mallory/"
cp exercises/$H/$H.ipynb "$1/mallory/zed/"
