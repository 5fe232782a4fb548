"""Week 1 answers: the Sequential API."""

from answer_banks import Exercise, concept

EXERCISES = {
    "w1_scale_images": Exercise(
        correct={
            "tf.cast and expand_dims": '''
def scale_images(images):
    if len(np.shape(images)) != 3:
        raise ValueError(f"want shape (n, 28, 28), got {np.shape(images)}")
    return np.expand_dims(tf.cast(images, tf.float32).numpy() / 255, axis=-1)
''',
            "reshape then divide in float32": '''
def scale_images(images):
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError("expected 3 axes, received " + str(images.shape))
    return images.reshape(images.shape + (1,)).astype("float32") / np.float32(255)
''',
        },
        wrong={
            "no channel axis": '''
def scale_images(images):
    if images.ndim != 3:
        raise ValueError(images.shape)
    return (images / 255).astype(np.float32)
''',
            "divides by 256": '''
def scale_images(images):
    if images.ndim != 3:
        raise ValueError(images.shape)
    return (images / 256).astype(np.float32)[..., None]
''',
            "no input check": '''
def scale_images(images):
    return (images / 255).astype(np.float32)[..., None]
''',
            "returns float64": '''
def scale_images(images):
    if images.ndim != 3:
        raise ValueError(images.shape)
    return (images / 255.0)[..., np.newaxis]
''',
        },
    ),
    "w1_count_dense_parameters": Exercise(
        correct={
            "loop": '''
def count_dense_parameters(layer_sizes):
    if len(layer_sizes) < 2:
        raise ValueError(f"need at least 2 sizes, got {layer_sizes}")
    total = 0
    for size in layer_sizes:
        if not isinstance(size, int) or size <= 0:
            raise ValueError(f"sizes must be positive integers, got {size!r}")
    for inputs, units in zip(layer_sizes, layer_sizes[1:]):
        total += (inputs + 1) * units
    return total
''',
            "numpy": '''
def count_dense_parameters(layer_sizes):
    sizes = np.asarray(layer_sizes)
    if sizes.ndim != 1 or sizes.size < 2 or not np.issubdtype(sizes.dtype, np.integer) or (sizes <= 0).any():
        raise ValueError(f"expected 2 or more positive integers, got {layer_sizes}")
    return int(np.sum(sizes[:-1] * sizes[1:] + sizes[1:]))
''',
        },
        wrong={
            "forgets the biases": '''
def count_dense_parameters(layer_sizes):
    if len(layer_sizes) < 2 or any(not isinstance(s, int) or s < 1 for s in layer_sizes):
        raise ValueError(layer_sizes)
    return sum(a * b for a, b in zip(layer_sizes, layer_sizes[1:]))
''',
            "biases of the inputs": '''
def count_dense_parameters(layer_sizes):
    if len(layer_sizes) < 2 or any(not isinstance(s, int) or s < 1 for s in layer_sizes):
        raise ValueError(layer_sizes)
    return sum(a * b + a for a, b in zip(layer_sizes, layer_sizes[1:]))
''',
            "checks only the length": '''
def count_dense_parameters(layer_sizes):
    if len(layer_sizes) < 2:
        raise ValueError(layer_sizes)
    return sum(a * b + b for a, b in zip(layer_sizes, layer_sizes[1:]))
''',
            "returns a float": '''
def count_dense_parameters(layer_sizes):
    if len(layer_sizes) < 2 or any(not isinstance(s, int) or s < 1 for s in layer_sizes):
        raise ValueError(layer_sizes)
    return float(sum(a * b + b for a, b in zip(layer_sizes, layer_sizes[1:])))
''',
        },
    ),
    "w1_build_mlp": Exercise(
        correct={
            "add() and activation functions": '''
def build_mlp(hidden_units=128, dropout_rate=0.2):
    model = keras.Sequential()
    model.add(keras.Input(shape=(28, 28, 1)))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(hidden_units, activation=keras.activations.relu))
    model.add(keras.layers.Dropout(rate=dropout_rate))
    model.add(keras.layers.Dense(10, activation=keras.activations.softmax))
    return model
''',
            "named layers": '''
def build_mlp(hidden_units=128, dropout_rate=0.2):
    return keras.Sequential([
        keras.Input((28, 28, 1), name="image"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(units=hidden_units, activation="relu", name="hidden"),
        keras.layers.Dropout(dropout_rate, name="drop"),
        keras.layers.Dense(units=10, activation="softmax", name="probabilities"),
    ], name="mlp")
''',
        },
        wrong={
            "sigmoid hidden layer": '''
def build_mlp(hidden_units=128, dropout_rate=0.2):
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(hidden_units, activation="sigmoid"),
                             keras.layers.Dropout(dropout_rate), keras.layers.Dense(10, activation="softmax")])
''',
            "ignores its arguments": '''
def build_mlp(hidden_units=128, dropout_rate=0.2):
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(128, activation="relu"),
                             keras.layers.Dropout(0.2), keras.layers.Dense(10, activation="softmax")])
''',
            "outputs logits": '''
def build_mlp(hidden_units=128, dropout_rate=0.2):
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(hidden_units, activation="relu"),
                             keras.layers.Dropout(dropout_rate), keras.layers.Dense(10)])
''',
            "dropout before the hidden layer": '''
def build_mlp(hidden_units=128, dropout_rate=0.2):
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dropout(dropout_rate),
                             keras.layers.Dense(hidden_units, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])
''',
        },
    ),
    "w1_build_cnn": Exercise(
        correct={
            "add() with integer sizes": '''
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    model = keras.Sequential()
    model.add(keras.Input(shape=input_shape))
    model.add(keras.layers.Conv2D(16, 3, activation="relu"))
    model.add(keras.layers.MaxPooling2D(3))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(64, activation="relu"))
    model.add(keras.layers.Dense(num_classes, activation="softmax"))
    return model
''',
            "MaxPool2D alias and explicit defaults": '''
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    return keras.Sequential([
        keras.Input(shape=tuple(input_shape)),
        keras.layers.Conv2D(filters=16, kernel_size=(3, 3), strides=1, padding="valid", activation="relu"),
        keras.layers.MaxPool2D(pool_size=(3, 3), strides=(3, 3)),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
''',
        },
        wrong={
            "same padding": '''
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
                             keras.layers.MaxPooling2D(3), keras.layers.Flatten(),
                             keras.layers.Dense(64, activation="relu"), keras.layers.Dense(num_classes, activation="softmax")])
''',
            "pool size 2": '''
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(16, 3, activation="relu"),
                             keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                             keras.layers.Dense(64, activation="relu"), keras.layers.Dense(num_classes, activation="softmax")])
''',
            "hard-coded 10 classes": '''
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(16, 3, activation="relu"),
                             keras.layers.MaxPooling2D(3), keras.layers.Flatten(),
                             keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax")])
''',
            "hard-coded input shape": '''
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
                             keras.layers.MaxPooling2D(3), keras.layers.Flatten(),
                             keras.layers.Dense(64, activation="relu"), keras.layers.Dense(num_classes, activation="softmax")])
''',
        },
    ),
    "w1_compile_classifier": Exercise(
        correct={
            "loss and metric objects": '''
def compile_classifier(model, learning_rate=0.001):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                           keras.metrics.SparseTopKCategoricalAccuracy(3, name="top3_accuracy")])
    return model
''',
            "loss function": '''
def compile_classifier(model, learning_rate=0.001):
    top3 = tf.keras.metrics.SparseTopKCategoricalAccuracy(k=3, name="top3_accuracy")
    model.compile(tf.keras.optimizers.Adam(learning_rate=learning_rate),
                  keras.losses.sparse_categorical_crossentropy, metrics=["accuracy", top3])
    return model
''',
        },
        wrong={
            "from_logits on a softmax model": '''
def compile_classifier(model, learning_rate=0.001):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=3, name="top3_accuracy")])
    return model
''',
            "one-hot loss": '''
def compile_classifier(model, learning_rate=0.001):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=3, name="top3_accuracy")])
    return model
''',
            "default learning rate": '''
def compile_classifier(model, learning_rate=0.001):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=3, name="top3_accuracy")])
    return model
''',
            "top-k for one-hot labels": '''
def compile_classifier(model, learning_rate=0.001):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.TopKCategoricalAccuracy(k=3, name="top3_accuracy")])
    return model
''',
            "returns nothing": '''
def compile_classifier(model, learning_rate=0.001):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=3, name="top3_accuracy")])
''',
        },
    ),
    "w1_train": Exercise(
        correct={
            "keywords and shuffle": '''
def train(model, images, labels, epochs=3, batch_size=32, validation_split=0.1):
    history = model.fit(x=images, y=labels, batch_size=batch_size, epochs=epochs, verbose=0,
                        validation_split=validation_split, shuffle=True)
    return history
''',
            "model.history": '''
def train(model, images, labels, epochs=3, batch_size=32, validation_split=0.1):
    model.fit(images, labels, epochs=epochs, batch_size=batch_size,
              validation_split=validation_split, verbose=0)
    return model.history
''',
        },
        wrong={
            "hard-coded epochs": '''
def train(model, images, labels, epochs=3, batch_size=32, validation_split=0.1):
    return model.fit(images, labels, epochs=3, batch_size=batch_size, validation_split=validation_split, verbose=0)
''',
            "no validation split": '''
def train(model, images, labels, epochs=3, batch_size=32, validation_split=0.1):
    return model.fit(images, labels, epochs=epochs, batch_size=batch_size, verbose=0)
''',
            "ignores batch_size": '''
def train(model, images, labels, epochs=3, batch_size=32, validation_split=0.1):
    return model.fit(images, labels, epochs=epochs, validation_split=validation_split, verbose=0)
''',
            "validates on the training data": '''
def train(model, images, labels, epochs=3, batch_size=32, validation_split=0.1):
    return model.fit(images, labels, epochs=epochs, batch_size=batch_size,
                     validation_data=(images, labels), verbose=0)
''',
            "returns the model": '''
def train(model, images, labels, epochs=3, batch_size=32, validation_split=0.1):
    model.fit(images, labels, epochs=epochs, batch_size=batch_size, validation_split=validation_split, verbose=0)
    return model
''',
        },
    ),
    "w1_predict_labels": Exercise(
        correct={
            "call the model": '''
def predict_labels(model, images):
    return model(images, training=False).numpy().argmax(axis=-1)
''',
            "predict with a batch size": '''
def predict_labels(model, images):
    probabilities = model.predict(images, batch_size=256, verbose=0)
    return np.argmax(probabilities, axis=1).astype(np.int64)
''',
        },
        wrong={
            "argmax over the images": '''
def predict_labels(model, images):
    return np.argmax(model.predict(images, verbose=0), axis=0)
''',
            "highest probability, not its class": '''
def predict_labels(model, images):
    return np.max(model.predict(images, verbose=0), axis=1)
''',
            "a list": '''
def predict_labels(model, images):
    return [int(np.argmax(row)) for row in model.predict(images, verbose=0)]
''',
            "classes counted from 1": '''
def predict_labels(model, images):
    return np.argmax(model.predict(images, verbose=0), axis=1) + 1
''',
        },
    ),
    "w1_classifier": Exercise(
        correct={
            "two convolutions of 32 filters, added one by one": '''
def build_small_classifier():
    network = keras.Sequential()
    network.add(keras.Input(shape=(28, 28, 1)))
    for _ in range(2):
        network.add(keras.layers.Conv2D(32, 3, activation="relu"))
        network.add(keras.layers.MaxPooling2D(2))
    network.add(keras.layers.Flatten())
    network.add(keras.layers.Dense(10, activation="softmax"))
    return network
''',
            "two narrow convolutions and a small hidden layer": '''
def build_small_classifier():
    layers = [keras.Input((28, 28, 1))]
    layers += [keras.layers.Conv2D(16, kernel_size=(3, 3), activation="relu"), keras.layers.MaxPool2D()]
    layers += [keras.layers.Conv2D(16, kernel_size=(3, 3), activation="relu"), keras.layers.MaxPool2D()]
    layers += [keras.layers.Flatten(), keras.layers.Dense(32, activation="relu")]
    return keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax")])
''',
            "three padded convolutions": '''
def build_small_classifier():
    def block(filters):
        return [keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
                keras.layers.MaxPooling2D(pool_size=2)]
    return keras.Sequential([keras.layers.Input(shape=(28, 28, 1)), *block(16), *block(32), *block(32),
                             keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
''',
        },
        wrong={
            "Exercise 4's network, over the budget": '''
def build_small_classifier():
    return build_cnn()
''',
            "a multilayer perceptron that fits the budget": '''
def build_small_classifier():
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(24, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])
''',
            "one convolution and coarse pooling": '''
def build_small_classifier():
    return keras.Sequential([keras.Input(shape=(28, 28, 1)),
                             keras.layers.Conv2D(16, (3, 3), activation="relu"),
                             keras.layers.MaxPooling2D((3, 3)), keras.layers.Flatten(),
                             keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])
''',
            "global average pooling throws away where the strokes are": '''
def build_small_classifier():
    return keras.Sequential([keras.Input(shape=(28, 28, 1)),
                             keras.layers.Conv2D(16, (3, 3), activation="relu"),
                             keras.layers.MaxPooling2D((2, 2)),
                             keras.layers.Conv2D(32, (3, 3), activation="relu"),
                             keras.layers.GlobalAveragePooling2D(),
                             keras.layers.Dense(10, activation="softmax")])
''',
            "the same model every call": '''
_network = keras.Sequential([keras.Input(shape=(28, 28, 1)),
                             keras.layers.Conv2D(16, (3, 3), activation="relu"),
                             keras.layers.MaxPooling2D((2, 2)),
                             keras.layers.Conv2D(32, (3, 3), activation="relu"),
                             keras.layers.MaxPooling2D((2, 2)), keras.layers.Flatten(),
                             keras.layers.Dense(10, activation="softmax")])
def build_small_classifier():
    return _network
''',
        },
    ),
    "w1_concept_conv_shape": concept(
        "conv_output_shape", correct=["(None, 14, 14, 8)", "[None, 14, 14, 8]", "(None, np.int64(14), 14, 8)"],
        wrong=["(None, 13, 13, 8)", "(None, 28, 28, 8)", "(14, 14, 8)", "(None, 14, 14, 1)", '"(None, 14, 14, 8)"']),
    "w1_concept_conv_params": concept(
        "conv_parameters", correct=["448", "16 * (3 * 3 * 3 + 1)", "np.int64(448)"],
        wrong=["432", "160", "448.0", '"448"', "16 * (3 * 3 + 1) * 64 * 64"]),
    "w1_concept_loss": concept(
        "loss_choice", correct=['"B"', '" b "'],
        wrong=['"A"', '"C"', '"D"', '"sparse_categorical_crossentropy"', "2"]),
}
