"""Hand-written releases for the journalist features: one release and its Traditional mirror from
another outlet (one story), two more fraud cases (one in the same district), a theft and a drugs
case. Synthetic, in the shape of real ones (header line with date and source)."""

from __future__ import annotations

from pathlib import Path

FRAUD = """九龙坡警方破获一起冒充客服电信诈骗案

发布时间:2024-03-05 09:00 | 来源:平安九龙坡

3月1日，九龙坡区公安分局接到市民李女士报警，称其接到自称网购平台客服的电话，对方以退款为由诱导其下载会议软件并共享屏幕，随后被骗走存款8万元。
接警后，九龙坡区公安分局反诈中心立即启动紧急止付，成功冻结涉案资金5万余元，并循线追踪，于3月4日在外地抓获犯罪嫌疑人王某、赵某二人。
经查，两名犯罪嫌疑人受境外诈骗团伙指使，专门负责为诈骗团伙提供银行卡和转移赃款，涉案金额达200余万元。
警方提醒：凡是自称客服要求退款并索要验证码、要求共享屏幕的，都是诈骗。如遇可疑情况，请及时拨打96110咨询。
"""
FRAUD_MIRROR = """手機版 | 網站導航
當前位置：首頁 > 法治 > 正文
九龍坡警方破獲一起冒充客服電信詐騙案
發布時間:2024-03-06 10:00 | 來源:重慶晨報

3月1日，九龍坡區公安分局接到市民李女士報警，稱其接到自稱網購平台客服的電話，對方以退款為由誘導其下載會議軟件並共享屏幕，隨後被騙走存款8萬元。
接警後，九龍坡區公安分局反詐中心立即啟動緊急止付，成功凍結涉案資金5萬余元，並循線追蹤，於3月4日在外地抓獲犯罪嫌疑人王某、趙某二人。
"""
FRAUD_OTHER = """九龙坡警方打掉一个网络刷单诈骗团伙

发布时间:2024-06-12 15:30 | 来源:平安九龙坡

近日，九龙坡区公安分局根据群众报案线索，成功打掉一个以网络刷单返利为幌子实施诈骗的犯罪团伙，抓获犯罪嫌疑人6名。
经查，该团伙在社交平台发布兼职刷单广告，先以小额返利取得受害人信任，再诱导其大额充值后拒不返还，受害群众遍及多个省市，涉案金额300余万元。
目前，犯罪嫌疑人已被依法采取刑事强制措施，案件正在进一步侦办中。警方提醒广大群众：刷单本身就是违法行为，所有刷单都是诈骗。
"""
THEFT = """渝中警方快速破获一起入室盗窃案

发布时间:2024-05-20 08:00 | 来源:渝中公安

5月18日凌晨，渝中区某小区居民张先生家中被盗，被盗现金及金银首饰价值3万余元。渝中区公安分局接报后迅速调取监控，锁定犯罪嫌疑人刘某。
5月19日，民警在一出租屋内将刘某抓获，当场追回全部被盗财物。经审讯，刘某对其先后3次入室盗窃的犯罪事实供认不讳。
警方提醒：外出时请锁好门窗，贵重物品妥善保管，发现可疑人员及时报警。
"""
DRUGS = """江北警方破获一起贩卖毒品案 缴获冰毒500克

发布时间:2023-11-02 16:00 | 来源:江北公安

近日，江北区公安分局禁毒大队经过缜密侦查，成功破获一起贩卖毒品案，抓获犯罪嫌疑人3名，现场缴获冰毒500余克、吸毒工具一批。
经查，犯罪嫌疑人陈某长期从外省购入毒品后在本地贩卖，警方循线深挖，将其上下线一网打尽。
警方表示，将持续保持对毒品犯罪的严打高压态势，欢迎群众积极举报涉毒线索。
"""
FRAUD_ELSEWHERE = """海淀警方侦破一起冒充公检法诈骗案

发布时间:2024-08-08 11:00 | 来源:平安北京

海淀区公安分局近日侦破一起冒充公检法工作人员实施电信诈骗的案件。受害人接到自称公安机关的电话，称其涉嫌洗钱需将存款转入安全账户，先后被骗50万元。
接警后，海淀区公安分局迅速成立专案组，追踪资金流向，抓获为诈骗团伙转移赃款的犯罪嫌疑人4名，冻结涉案资金30余万元。
警方提醒：公检法机关不会通过电话办案，更没有所谓安全账户，接到此类电话一律是诈骗。
"""
RELEASES = {
    "fraud.txt": FRAUD,
    "fraud_mirror.txt": FRAUD_MIRROR,
    "fraud_other.txt": FRAUD_OTHER,
    "theft.txt": THEFT,
    "drugs.txt": DRUGS,
    "fraud_elsewhere.txt": FRAUD_ELSEWHERE,
}


def write_journalist_releases(folder: Path) -> dict[str, Path]:
    """The releases written into ``folder``, by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in RELEASES.items():
        paths[name] = folder / name
        paths[name].write_text(text, encoding="utf-8")
    return paths
