"""The skeleton registry: joint order, kinematic tree, left/right pairs, conversions by name."""

import numpy as np
import pytest

from pose3d_cli.skeleton import (BLAZEPOSE33, COCO17, H36M17, SKELETONS, Skeleton, SkeletonError, conversion_weights,
                                 convert, get_skeleton)

H36M_ORDER = (
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "spine", "thorax",
    "nose", "head", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
)


def test_registry_holds_the_three_skeletons():
    assert set(SKELETONS) == {"h36m17", "coco17", "blazepose33"}
    assert get_skeleton("h36m17") is H36M17
    assert get_skeleton(COCO17) is COCO17
    assert (len(H36M17), len(COCO17), len(BLAZEPOSE33)) == (17, 17, 33)
    with pytest.raises(SkeletonError, match="unknown skeleton 'h36m32'"):
        get_skeleton("h36m32")


def test_h36m17_standard_order_and_tree():
    assert H36M17.joints == H36M_ORDER
    assert H36M17.root == "pelvis"
    # the VideoPose3D parents of the 17-joint Human3.6M skeleton
    assert H36M17.parent_indices.tolist() == [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15]
    assert H36M17.joints_left == [4, 5, 6, 11, 12, 13]
    assert H36M17.joints_right == [1, 2, 3, 14, 15, 16]


@pytest.mark.parametrize("sk", list(SKELETONS.values()), ids=list(SKELETONS))
def test_bones_form_a_tree(sk):
    assert len(sk.bones) == len(sk) - 1
    assert sk.bone_indices.shape == (len(sk) - 1, 2)
    # every joint reaches the root through its parents, without cycles
    for j in range(len(sk)):
        seen = set()
        while sk.parent_indices[j] >= 0:
            assert j not in seen
            seen.add(j)
            j = sk.parent_indices[j]
        assert sk.joints[j] == sk.root
    # bone lengths of a known pose
    pts = np.zeros((len(sk), 3))
    pts[:, 0] = np.arange(len(sk))
    expected = np.abs(sk.bone_indices[:, 0] - sk.bone_indices[:, 1]).astype(float)
    np.testing.assert_allclose(sk.bone_lengths(pts), expected)
    assert sk.bone_lengths(np.zeros((4, 2, len(sk), 3))).shape == (4, 2, len(sk) - 1)


@pytest.mark.parametrize("sk", list(SKELETONS.values()), ids=list(SKELETONS))
def test_flip_permutation_is_an_involution_mapping_left_to_right(sk):
    perm = sk.flip_permutation
    np.testing.assert_array_equal(perm[perm], np.arange(len(sk)))
    for j, name in enumerate(sk.joints):
        flipped = sk.joints[perm[j]]
        if name.startswith("left_"):
            assert flipped == "right_" + name[len("left_"):]
        elif name.startswith("right_"):
            assert flipped == "left_" + name[len("right_"):]
        elif name == "mouth_left":
            assert flipped == "mouth_right"
        elif name != "mouth_right":
            assert flipped == name  # centre joints stay
    # every left_* joint has a pair
    lefts = {sk.joints[i] for i in sk.joints_left}
    assert {n for n in sk.joints if n.startswith("left_")} <= lefts


def test_skeleton_validation():
    with pytest.raises(SkeletonError, match="parents"):
        Skeleton("x", ("a", "b"), (None,))
    with pytest.raises(SkeletonError, match="duplicate"):
        Skeleton("x", ("a", "a"), (None, "a"))
    with pytest.raises(SkeletonError, match="unknown parent"):
        Skeleton("x", ("a", "b"), (None, "c"))
    with pytest.raises(SkeletonError, match="unknown pair"):
        Skeleton("x", ("a", "b"), (None, "a"), (("a", "z"),))
    with pytest.raises(SkeletonError, match="has no joint 'tail'"):
        H36M17.index("tail")
    with pytest.raises(SkeletonError, match="no root"):
        Skeleton("x", ("a", "b"), ("b", "a"))
    with pytest.raises(SkeletonError, match="cycle"):
        Skeleton("x", ("a", "b", "c"), (None, "c", "b"))


def _points(sk, rng, batch=(5,)):
    return rng.normal(size=batch + (len(sk), 2)).astype(np.float32) * 100


@pytest.mark.parametrize("src", [COCO17, BLAZEPOSE33], ids=["coco17", "blazepose33"])
def test_convert_to_h36m17_by_name(src):
    rng = np.random.default_rng(0)
    pts = _points(src, rng)
    conf = rng.uniform(0.1, 1.0, size=pts.shape[:-1]).astype(np.float32)
    out, c = convert(pts, src, "h36m17", conf)
    assert out.shape == (5, 17, 2) and out.dtype == np.float32
    assert c.shape == (5, 17) and c.dtype == np.float32

    def s(name):
        return pts[:, src.index(name)]

    def o(name):
        return out[:, H36M17.index(name)]

    def sc(name):
        return conf[:, src.index(name)]

    def oc(name):
        return c[:, H36M17.index(name)]

    # shared names are copied
    for name in ("nose", "left_hip", "right_knee", "left_ankle", "left_shoulder", "right_elbow", "left_wrist"):
        np.testing.assert_array_equal(o(name), s(name))
        np.testing.assert_array_equal(oc(name), sc(name))
    # derived joints
    pelvis = (s("left_hip") + s("right_hip")) / 2
    thorax = (s("left_shoulder") + s("right_shoulder")) / 2
    np.testing.assert_allclose(o("pelvis"), pelvis, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(o("thorax"), thorax, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(o("spine"), (pelvis + thorax) / 2, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(o("head"), (s("left_ear") + s("right_ear")) / 2, rtol=1e-5, atol=1e-3)
    # confidence of a derived joint = min of its inputs
    np.testing.assert_array_equal(oc("pelvis"), np.minimum(sc("left_hip"), sc("right_hip")))
    np.testing.assert_array_equal(oc("head"), np.minimum(sc("left_ear"), sc("right_ear")))
    np.testing.assert_array_equal(
        oc("spine"), np.min([sc(n) for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder")], axis=0))


def test_convert_head_falls_back_to_eyes():
    # a skeleton with eyes but no ears: head = mid-eyes (the second alternative)
    sk = Skeleton("eyes", ("nose", "left_eye", "right_eye"), (None, "nose", "nose"), (("left_eye", "right_eye"),))
    W = conversion_weights(sk, Skeleton("h", ("head",), (None,)))
    np.testing.assert_allclose(W, [[0.0, 0.5, 0.5]])


def test_convert_identity_and_3d():
    pts = np.random.default_rng(1).normal(size=(3, 17, 3))
    out, conf = convert(pts, "h36m17", "h36m17")
    np.testing.assert_array_equal(out, pts)
    assert conf is None


@pytest.mark.parametrize("src,dst", [("h36m17", "coco17"), ("h36m17", "blazepose33"), ("coco17", "blazepose33")])
def test_impossible_conversion_raises(src, dst):
    with pytest.raises(SkeletonError, match=f"cannot build {dst} from {src}"):
        convert(np.zeros((17, 2)), src, dst)
