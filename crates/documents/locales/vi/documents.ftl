# Chữ in trên các tài liệu PDF, tiếng Việt. Mỗi id của en/documents.ftl phải có ở đây (một bài kiểm tra đối chiếu).

## Shared blocks

issued-electronically = Xuất điện tử
issued-by = Xuất bởi { $name }
issued-by-iata = Xuất bởi { $name } (IATA { $iata })
office-id = Mã văn phòng
iata = IATA
status-line = Trạng thái: { $mark }
page-of = Trang { $page }/{ $total }
important-information = Thông tin quan trọng
base-fare = Giá vé cơ bản
taxes-fees-charges = Thuế, phí và lệ phí
total = Tổng cộng
form-of-payment-label = HÌNH THỨC THANH TOÁN
currency-label = TIỀN TỆ
passenger = Hành khách
date-of-issue = Ngày xuất
booking-reference = Mã đặt chỗ (PNR)
booking-code = Mã đặt chỗ
order = Đơn hàng
ticket-changed-status = Vé này đã thay đổi trạng thái kể từ khi được xuất.

## Flight e-ticket

eticket-title = Vé điện tử — Phiếu hành trình
eticket-subtitle = Vui lòng mang theo phiếu này, hoặc lưu trên điện thoại, cùng với giấy tờ đi lại của bạn.
eticket-footer = Vé { $ticket }   ·   Đặt chỗ { $pnr }
eticket-continued = Vé điện tử (tiếp theo)
eticket-metadata-title = Vé điện tử { $ticket } — { $passenger }
itinerary-metadata-title = Hành trình { $pnr } — { $count } hành khách
passenger-type = Loại hành khách
ticket-status = Trạng thái vé
ticket-number = Số vé
validating-carrier = Hãng xuất vé
section-itinerary = Hành trình
section-gate-codes = Mã lên cửa
gate-code-label = { $flight } · phiếu bay { $number }
gate-codes-note = Mỗi mã cho hành khách qua cửa chuyến bay của mình một lần. Cửa kiểm tra mã bằng khóa công khai, kể cả khi không có mạng.
section-fare-details = Chi tiết giá vé
section-services = Dịch vụ bổ sung (EMD)
section-endorsements = Ghi chú / điều kiện hạn chế
notice-conditions-title = Điều kiện hợp đồng
notice-conditions = Việc vận chuyển và các dịch vụ khác do hãng vận chuyển cung cấp tuân theo điều lệ vận chuyển, được dẫn chiếu vào đây. Bạn có thể nhận các điều kiện này từ hãng xuất vé hoặc đại lý du lịch. Hành khách có điểm đến cuối cùng hoặc điểm dừng tại một quốc gia khác với quốc gia khởi hành cần lưu ý rằng các điều ước quốc tế như Công ước Montreal có thể được áp dụng và có thể giới hạn trách nhiệm của hãng vận chuyển đối với tử vong hoặc thương tích, và đối với mất mát hoặc hư hỏng hành lý.
notice-baggage-title = Hành lý
notice-baggage = Tiêu chuẩn hành lý ghi theo từng chặng là của hãng khai thác tại thời điểm xuất vé. Hành lý quá cước, quá khổ và hành lý đặc biệt có thể bị tính phí. Pin lithium, thuốc lá điện tử và các hàng nguy hiểm khác bị hạn chế; pin dự phòng và sạc dự phòng phải mang theo trong khoang hành khách, không bao giờ ký gửi. Hãy giữ đồ có giá trị, thuốc men và giấy tờ đi lại bên mình.
notice-checkin-title = Làm thủ tục và giấy tờ đi lại
notice-checkin = Làm thủ tục trực tuyến hoặc tại sân bay trong thời hạn của hãng, thường là 60 phút trước giờ khởi hành đối với chuyến bay quốc tế, và có mặt tại cửa ra tàu bay đúng giờ ghi trên thẻ lên tàu bay. Bạn chịu trách nhiệm mang hộ chiếu, thị thực hợp lệ và mọi giấy tờ y tế cần thiết cho từng quốc gia trong hành trình. Các phiếu bay phải được sử dụng theo thứ tự; một chặng không sử dụng có thể khiến các chặng sau bị hủy.
pax-adult = Người lớn
pax-child = Trẻ em
pax-infant = Em bé
pax-infant-seat = Em bé có ghế
pax-youth = Thanh niên
pax-senior = Người cao tuổi
coupon-open = Có thể sử dụng
coupon-airport = Sân bay kiểm soát
coupon-checked-in = Đã làm thủ tục
coupon-lifted = Đã lên tàu bay
coupon-flown = Đã bay
coupon-void = Đã hủy
coupon-refunded = Đã hoàn
coupon-exchanged = Đã đổi
coupon-suspended = Tạm ngưng
coupon-printed = Đã in
coupon-unavailable = Không khả dụng
coupon-cancelled = Đã hủy bỏ
connection = Nối chuyến
coupon-number = Phiếu bay { $number }
departure-label = KHỞI HÀNH
arrival-label = ĐẾN
terminal = Nhà ga { $terminal }
class-label = HẠNG
fare-basis-label = CƠ SỞ GIÁ
baggage-label = HÀNH LÝ
coupon-status-label = TRẠNG THÁI PHIẾU
airline-ref-label = MÃ HÃNG
document-number-label = SỐ CHỨNG TỪ
service-label = DỊCH VỤ
amount-label = SỐ TIỀN

## EMD receipt

emd-title = Chứng từ dịch vụ điện tử (EMD) — Biên nhận
emd-subtitle = Biên nhận cho một dịch vụ đã thanh toán. Hãy giữ cùng với vé điện tử của bạn.
emd-footer = EMD { $document }   ·   Đặt chỗ { $pnr }
emd-continued = Biên nhận EMD (tiếp theo)
emd-metadata-title = EMD { $document } — { $passenger }
emd-changed-status = Chứng từ này đã thay đổi trạng thái kể từ khi được xuất.
document-number = Số chứng từ
related-ticket = Vé liên quan
service-type = Loại dịch vụ
service-code = Mã dịch vụ
section-service = Dịch vụ
section-payment = Thanh toán
notice-emd-title = Về chứng từ này
notice-emd = Biên nhận này xác nhận việc thanh toán cho dịch vụ nêu trên. EMD chỉ có giá trị cho hành khách có tên và, khi có ghi vé liên quan, chỉ có giá trị cùng với vé đó. Dịch vụ do hãng vận chuyển cung cấp theo điều lệ vận chuyển và các quy định áp dụng cho dịch vụ này.
notice-emd-changes-title = Thay đổi và hoàn tiền
notice-emd-changes = Dịch vụ chưa sử dụng có thể được hoàn hoặc đổi theo quy định của hãng; có thể mất phí. Vui lòng liên hệ đại lý du lịch và cung cấp số chứng từ cùng mã đặt chỗ.

## Event ticket

event-title = Vé sự kiện
event-subtitle = Xuất trình vé này tại lối vào, bản in hoặc trên điện thoại.
event-footer = Vé { $item }
event-continued = Vé sự kiện (tiếp theo)
event-metadata-title = Vé sự kiện { $item }
event-metadata-title-holder = Vé sự kiện { $item } — { $holder }
ticket = Vé
price = Giá
order-item = Mục đơn hàng
event-label = SỰ KIỆN
starts-label = BẮT ĐẦU
ends-label = KẾT THÚC
holder-label = NGƯỜI GIỮ VÉ
no-entry-code = Không có mã vào cửa
section-label = KHU
row-label = HÀNG
seat-label = GHẾ
notice-entry-title = Vào cửa
notice-entry = Chuẩn bị sẵn vé này tại lối vào, bản in hoặc trên điện thoại; bạn có thể được yêu cầu xuất trình giấy tờ tùy thân có ảnh. Mã QR chỉ cho vào một lần: lần quét đầu tiên được tính, vì vậy đừng chia sẻ hoặc đăng ảnh vé này. Hãy đến sớm vì kiểm tra an ninh có thể mất thời gian.
notice-your-ticket-title = Vé của bạn
notice-your-ticket = Vé này chỉ có giá trị cho sự kiện, ngày và địa điểm ghi trên vé, và cho ghế hoặc khu vực in trên vé. Áp dụng điều khoản của nhà tổ chức và nội quy của địa điểm; việc bán lại có thể bị nhà tổ chức hạn chế hoặc cấm.
notice-event-changes-title = Thay đổi và hủy
notice-event-changes = Nếu sự kiện bị hủy, hoãn hoặc dời địa điểm, bạn sẽ được nhà tổ chức hoặc đại lý du lịch thông báo. Vui lòng cung cấp mã đặt chỗ và số mục đơn hàng ở trên trong mọi yêu cầu.

## Invoice

invoice-title = Hóa đơn
invoice-continued = { $title } (tiếp theo)
your-reference = Tham chiếu của bạn
event = Sự kiện
credits-invoice = Điều chỉnh hóa đơn { $number }
invoice-number-label = SỐ HÓA ĐƠN
date-of-issue-label = NGÀY XUẤT
seller-label = BÊN BÁN
buyer-label = BÊN MUA
description-label = MÔ TẢ
qty-label = SL
unit-price-label = ĐƠN GIÁ
vat-rate-label = THUẾ SUẤT
net-label = CHƯA THUẾ
vat-label = THUẾ GTGT
gross-label = TỔNG
invoice-lines = Các dòng hóa đơn
invoice-lines-currency = Các dòng hóa đơn · số tiền bằng { $currency }
no-lines = Không có dòng nào
net-total = Tổng chưa thuế
vat = Thuế GTGT
