package io.chorus.changeset;

/** The operation of a row change. */
public enum Op { INSERT, UPDATE, DELETE }
