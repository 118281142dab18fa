"""descent: the library the book's chapters run on.

Data, loss and gradients, training loops, plots and animations for fitting a line
``y = x @ a`` by gradient descent, as in fastai's ``lesson2-sgd`` notebook.
"""
