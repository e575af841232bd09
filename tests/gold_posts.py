"""A gold set too big to write by hand: FICTIONAL brand posts coded B1-B10 by construction.

Each post is put together from phrases of the codes it carries: some phrases use the
codebook's cue words (the rules find them), most say the same thing in other words (the rules
miss them), and decoys use a cue word of a code the post does not carry (a "[哈哈]" reaction,
a thank-you for reposting: the rules code them). So a model that learns from the gold codes
can beat the rules, as it must on real posts. `write_gold` writes fixtures/coding/gold_posts.jsonl
(`python -m tests.gold_posts`); `generate` makes any number for the benchmark; `store_gold`
puts posts and codes in a store as coder `gold` (or another coder).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from smcat.store import Store

GOLD_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "coding" / "gold_posts.jsonl"
CODES = tuple(f"B{i}" for i in range(1, 11))
_START = datetime(2024, 1, 1, 9, 0)

_BRANDS = {
    "澜蔻": ["水光精华", "修护面霜", "防晒乳", "卸妆油"],
    "速行运动": ["缓震跑鞋", "速干T恤", "运动手环", "训练短裤"],
    "茶小满": ["桂花乌龙", "生椰拿铁", "杨枝甘露", "轻乳茶"],
    "星跃": ["星跃X9手机", "降噪耳机", "智能手表", "快充充电宝"],
    "禾味": ["全麦吐司", "低糖燕麦", "坚果礼盒", "冻干水果"],
}
_CITIES = ["杭州", "成都", "上海", "武汉", "西安", "长沙"]

# code -> (phrases with the codebook's cues, phrases in other words)
_PHRASES: dict[str, tuple[list[str], list[str]]] = {
    "B1": (
        [
            "{p}新品首发，全新配方更清爽",
            "{p}春季新色上新啦",
            "{p}规格升级为大容量装",
            "{p}核心成分来自天然植物",
            "同款{p}终于到货",
        ],
        [
            "{p}第二代来了，这次把重量减了三成",
            "{p}换了新的外观设计，摸起来细腻顺滑",
            "这次的{p}用了自研的缓释技术，一整天都稳定",
            "{p}的参数表在图里，续航提升到两天",
            "把{p}拆开给大家看看里面的用料",
            "{p}迭代到第三代，细节都重新打磨了",
            "{p}加入了全新的材质，轻了不止一点点",
            "老朋友{p}焕新回归，外观和手感都升级了",
        ],
    ),
    "B2": (
        [
            "{p}限时特价，到手价{n}9元",
            "全场满{n}00减{n}0，{p}包邮",
            "{p}今晚秒杀，领券再立减",
            "双11预售开启，{p}付定金享折扣",
        ],
        [
            "{p}今天下单立省一半",
            "{p}第二件半价只到周日",
            "拍{p}送同款小样，手慢无",
            "{p}直接打骨折，错过再等一年",
            "{p}今晚八点开抢，价格历史最低",
            "下单{p}再减二十块，会员还能叠加",
            "{p}清仓，低到不敢相信",
        ],
    ),
    "B3": (
        [
            "关注并转发，抽{n}位送{p}",
            "评论区揪{n}个宝子送出{p}",
            "{p}锦鲤福利来啦，明天开奖",
            "转发抽奖：{p}一份",
        ],
        [
            "转发此条就有机会把{p}带回家",
            "留下你的故事，我们挑{n}位幸运儿寄出{p}",
            "关注我们并评论，随机挑人免费拿{p}",
            "带话题转发本条，幸运的你将拿到{p}",
            "周五随机挑选{n}位转发的朋友，{p}包装好寄给你",
            "点赞最高的三条留言，各拿走{p}一份",
        ],
    ),
    "B4": (
        [
            "官宣！{b}与国潮品牌联名款来了",
            "{b}{c}门店今天开业",
            "{b}品牌发布会定档下周",
            "{b}荣获年度口碑品牌",
        ],
        [
            "{b}在{c}的第一家旗舰空间今天开门迎客",
            "{b}全新工厂在{c}落成投产",
            "{b}和{c}博物馆的跨界礼盒正式亮相",
            "{b}年度大会在{c}举行，公布了新的品牌战略",
            "{b}完成新一轮融资，团队扩充到五百人",
            "{b}{c}新店揭幕，欢迎路过的朋友来坐坐",
            "{b}主理人在{c}和大家见面，聊了聊品牌这一年",
        ],
    ),
    "B5": (
        ["这波操作yyds", "{p}绝绝子", "打工人的续命神器{p}", "看完直接破防了", "{p}真的拿捏了"],
        [
            "{p}主打一个陪伴",
            "{p}简直是我的嘴替",
            "{p}就是我的电子榨菜",
            "{p}氛围感直接拉满",
            "一秒上头的{p}，谁懂啊",
            "班味退散，{p}安排上",
            "今天的精神状态全靠{p}",
        ],
    ),
    "B6": (
        [
            "哈哈哈笑死，{p}也太会了",
            "今日段子：{p}和老板的对话",
            "脑洞大开的{p}表情包来了",
            "猜猜{p}藏在图里哪里",
        ],
        [
            "{p}：我只是个道具，别cue我",
            "员工偷偷把{p}藏进了老板的抽屉，结局离谱",
            "当{p}学会了说话，第一句是下班",
            "如果{p}会说话，它一定先吐槽你的作息",
            "小编又把{p}拿去当枕头了，请大家监督",
            "本期冷笑话：{p}为什么不去健身？因为它已经很能扛了",
        ],
    ),
    "B7": (
        ["感谢一路陪伴的你们", "愿{p}给你一点温暖", "加油，每一个努力的人", "谢谢你们，爱你们"],
        [
            "无论多晚回家，总有一盏灯在等你",
            "这一年辛苦了，记得好好抱抱自己",
            "你值得被这个世界温柔以待",
            "写给每一个在外打拼的你，别忘了你并不孤单",
            "妈妈的味道，是我们做{p}的初心",
            "那些一起熬过的夜，都会变成光",
        ],
    ),
    "B8": (
        [
            "元宵节快乐！",
            "中秋佳节，{p}陪你团圆",
            "立冬了，记得添衣",
            "新春快乐，福气满满",
            "七夕情人节，把{p}送给心上人",
        ],
        [
            "今天是大寒，一年里最冷的日子",
            "月圆人团圆，今晚一起赏月吧",
            "粽叶飘香的日子又到了",
            "清明时节雨纷纷，出行注意安全",
            "腊八到了，喝碗热粥暖暖身",
            "开学季到了，新学期新气象",
        ],
    ),
    "B9": (
        [
            "小贴士：{p}这样用效果翻倍",
            "{p}使用教程来了",
            "干货分享：选{p}的三个技巧",
            "冷知识：你知道吗，{p}不宜冷藏",
        ],
        [
            "{p}用完记得盖紧盖子放在阴凉处",
            "三分钟学会挑选适合自己的{p}",
            "很多人不知道，{p}要先摇匀再用",
            "为什么{p}不能和热水一起用？原理在这里",
            "新手常犯的三个错误，用{p}时别再踩坑",
            "一张图看懂{p}的正确打开方式",
        ],
    ),
    "B10": (
        [
            "{b}公益行动：每卖出一件捐出1元",
            "{b}环保计划启动，包装可回收",
            "{b}志愿者走进乡村学校",
            "地球日，{b}一起低碳出行",
        ],
        [
            "{b}把今年的部分收入用于山区孩子的午餐",
            "{b}员工利用周末去敬老院陪老人聊天",
            "{b}联合{c}的救助站给流浪动物找家",
            "{b}为受灾地区送去了两万份物资",
            "{b}发起旧衣回收，旧物换新生",
            "{b}在{c}种下第一千棵树",
        ],
    ),
}
# cue words of a code in a post that does not carry it (the code it would set, the phrase)
_DECOYS: list[tuple[str, str]] = [
    ("B6", "[哈哈]"),
    ("B6", "哈哈好的收到"),
    ("B7", "感谢@{b}小助手的转发"),
    ("B7", "谢谢大家的耐心等待"),
    ("B4", "欢迎来直播间找我们玩"),
    ("B4", "有合作意向请私信"),
    ("B1", "更多系列请看主页"),
    ("B3", "粉丝福利群已满"),
    ("B8", "国庆假期客服照常在线"),
    ("B9", "客服攻略已置顶"),
    ("B2", "营业时间10点到22点，人均50元左右"),
    ("B10", "乡村振兴展会见"),
]
_FILLERS = [
    "{b}和你一起",
    "详情看图",
    "快来看看吧",
    "欢迎留言告诉我们",
    "今天也要好好生活",
    "周末愉快",
    "早安",
    "晚安，明天见",
    "戳图了解更多",
    "#{b}日常#",
]
# how many codes a post carries, and how likely each count is
_CODE_COUNTS, _COUNT_WEIGHTS = (0, 1, 2, 3), (0.12, 0.5, 0.28, 0.1)
_CUE_SHARE = 0.35  # the share of a code's phrases that use its cues
_DECOY_SHARE = 0.35


def generate(n: int, seed: int = 20) -> list[dict[str, Any]]:
    """`n` posts, each {"post_id", "created_at", "text", "codes": {B1..B10: 0/1}}."""
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        brand = rng.choice(list(_BRANDS))
        fill = {"b": brand, "p": rng.choice(_BRANDS[brand]), "c": rng.choice(_CITIES),
                "n": str(rng.randint(1, 9))}  # fmt: skip
        chosen = rng.sample(CODES, rng.choices(_CODE_COUNTS, _COUNT_WEIGHTS)[0])
        parts = []
        for code in chosen:
            cued, plain = _PHRASES[code]
            parts.append(rng.choice(cued if rng.random() < _CUE_SHARE else plain))
        if rng.random() < _DECOY_SHARE:
            decoys = [phrase for code, phrase in _DECOYS if code not in chosen]
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(decoys))
        parts.append(rng.choice(_FILLERS))
        text = "，".join(part.format(**fill) for part in parts)
        created = _START + timedelta(hours=7 * i + rng.randint(0, 6))
        posts.append({
            "post_id": str(4_900_000_000_000_000 + i),
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "text": text + rng.choice(["", "！", "～", "。"]),
            "codes": {code: int(code in chosen) for code in CODES},
        })  # fmt: skip
    return posts


def read_gold(path: Path = GOLD_FILE) -> list[dict[str, Any]]:
    """The posts of a gold file written by `write_gold`."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_gold(path: Path = GOLD_FILE, n: int = 400, seed: int = 20) -> None:
    """Write `n` generated posts as JSON lines."""
    with open(path, "w", encoding="utf-8") as handle:
        for post in generate(n, seed):
            handle.write(json.dumps(post, ensure_ascii=False) + "\n")


def store_gold(
    store: Store, posts: Iterable[dict[str, Any]], coder: str = "gold", version: str = "1"
) -> int:
    """Store the posts (Weibo) and their codes as `coder`'s with brand_posts `version`;
    the number of posts."""
    posts = list(posts)
    store.upsert_posts(
        {"platform": "weibo", "post_id": p["post_id"], "created_at": p["created_at"],
         "text": p["text"], "is_repost": False, "media_type": "picture", "pic_count": 1}
        for p in posts
    )  # fmt: skip
    common = {"platform": "weibo", "codebook": "brand_posts", "codebook_version": version,
              "coder": coder, "coded_at": "2025-12-01T10:00:00+08:00"}  # fmt: skip
    store.add_coded(
        [{**common, "post_id": p["post_id"], "subcategory": code, "value": value}
         for p in posts for code, value in p["codes"].items()],
        [{**common, "post_id": p["post_id"]} for p in posts],
    )  # fmt: skip
    return len(posts)


if __name__ == "__main__":
    write_gold()
