"""nbgrader configuration for instructors who run nbgrader by hand.

The repository root is the course directory: ``solutions/`` holds the source
notebooks, ``exercises/`` what students get. Prefer ``make exercises`` and
``make grade``; with this file, ``nbgrader validate exercises/hw1_lime_from_scratch/hw1_lime_from_scratch.ipynb``
and nbgrader's other commands also work from the repository root. The gradebook
(``gradebook.db``) holds the hidden tests: it is git-ignored and never shipped.
"""

import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "limelab"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.Execute.timeout = 60
