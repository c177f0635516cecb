# Thư gửi vé của một đặt chỗ.

mail-what = đặt chỗ { $code }
mail-subject = Vé điện tử của bạn — { $what }
mail-hello = Xin chào,
mail-attached = đính kèm là vé điện tử của bạn cho { $what }: { $items }.
mail-attached-html = đính kèm là vé điện tử của bạn cho { $what }:
mail-carry = Vui lòng mang theo vé cùng giấy tờ đi lại khi bạn khởi hành.
mail-reference = Mã tham chiếu vé: { $reference }
