"""What the regression pipeline's steps run: preprocess.py and evaluate.py."""
