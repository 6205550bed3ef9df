"""Category taxonomy and the trainable category model.

- `taxonomy`: the district's 13 categories, and how an upload's own labels map onto them.
- `features`: hashed character n-grams and their tf-idf blocks; `model`: the model and the
  baseline; `priors`: pseudo-tickets from a category scheme's sub-category names that the model
  adds to the training rows of the labels they name; `scorer`: a fitted model's classifiers as
  one compact product; `predict`: predictions from columns of titles and contents.
- `evaluate`: grouped (and, given ticket times, time-blocked) cross-validation against the
  baseline, and a forward check on the latest tickets; `train`: fit, evaluate and store a
  model; `store`: the stored model; `tickets`: the categories of stored tickets (predicted where
  missing, reviewed, corrected).

Uploads and `tickets.predict_missing` predict each distinct text once.
"""
