from hypothesis import given
from hypothesis import strategies as st

from diemcau.directory import naming


def test_ascii_fold_handles_vietnamese():
    assert naming.ascii_fold("Khánh Hòa") == "Khanh Hoa"
    assert naming.ascii_fold("Đồng Nai") == "Dong Nai"
    assert naming.ascii_fold("Xương Huân") == "Xuong Huan"
    assert naming.ascii_fold("Trường Sa") == "Truong Sa"


def test_proper_name_strips_division_words():
    assert naming.proper_name("UBND thành phố Nha Trang") == "Nha Trang"
    assert naming.proper_name("Ủy ban nhân dân phường Xương Huân") == "Xương Huân"
    assert naming.proper_name("UBND thị xã Ninh Hòa") == "Ninh Hòa"
    assert naming.proper_name("Huyện Cam Lâm") == "Cam Lâm"
    assert naming.proper_name("UBND thị trấn Vạn Giã") == "Vạn Giã"


def test_initials_of_districts():
    assert naming.initials("Thành phố Nha Trang") == "NT"
    assert naming.initials("UBND huyện Diên Khánh") == "DK"
    assert naming.initials("Thị xã Ninh Hòa") == "NH"


@given(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩị"
                        "óòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ ", min_size=1, max_size=40))
def test_ascii_fold_always_gives_ascii(text):
    folded = naming.ascii_fold(text)
    assert folded.isascii()
    assert len(folded) == len(text)
