"""Train and evaluate pain-expression models: `painmon train` and `painmon evaluate`.

Data is loaded (COPE/iCOPE names, class folders or a CSV manifest), faces are found and cropped
with the bedside code, and models are judged by two protocols side by side: a stratified random
split (what the literature usually reports) and subject-disjoint folds (the honest headline).
"""
