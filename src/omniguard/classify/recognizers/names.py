"""Chinese person names without NER: a surname list plus label anchoring.

No Chinese NER model can be installed offline, so a name is recognised by form: a known surname
followed by one or two Han characters, either as a whole value (a name column) or right after a
label such as 收货人 / 联系人 in free text. Brand names that start with a surname (王老吉, 李宁)
pass this test; the column classifier rejects them by prevalence and by name cues (product,
brand, 商品), and reports PERSON separately in the benchmark because it is a heuristic.

The list is the 百家姓 (Hundred Family Surnames, single and compound) plus common modern
surnames missing from it; it is not derived from Faker, which the benchmark uses as ground truth.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

_BAIJIAXING = (
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎"
    "鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞齐康伍余元卜顾孟平黄"
    "和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童颜郭"
    "梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪干解应宗丁宣贲邓郁单杭洪包诸左石崔吉钮龚"
    "程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫"
    "宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴鬱胥能苍双"
    "闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍卻璩桑桂濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连茹习宦艾鱼容"
    "向古易慎戈廖庾终暨居衡步都耿满弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空"
    "曾毋沙乜养鞠须丰巢关蒯相查后荆红游竺权逯盖益桓公晋楚闫法汝鄢涂钦岳帅缑亢况郈有琴商牟佘佴伯赏墨哈"
    "谯笪年爱阳佟言福"
)
_MODERN = "覃兰芦麦苟隋丛苑迟邝栗谌冼楼仝朴练卿初敬鹿邸辜亓修付代"
SINGLE_SURNAMES: frozenset[str] = frozenset(_BAIJIAXING + _MODERN)
COMPOUND_SURNAMES: tuple[str, ...] = (
    "万俟", "司马", "上官", "欧阳", "夏侯", "诸葛", "闻人", "东方", "赫连", "皇甫", "尉迟", "公羊", "澹台",
    "公冶", "宗政", "濮阳", "淳于", "单于", "太叔", "申屠", "公孙", "仲孙", "轩辕", "令狐", "钟离", "宇文",
    "长孙", "慕容", "鲜于", "闾丘", "司徒", "司空", "亓官", "司寇", "子车", "颛孙", "端木", "巫马", "公西",
    "漆雕", "乐正", "壤驷", "公良", "拓跋", "夹谷", "宰父", "谷梁", "段干", "百里", "东郭", "南门", "呼延",
    "羊舌", "微生", "梁丘", "左丘", "东门", "西门", "南宫", "第五",
)

_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + "|[" + "".join(sorted(SINGLE_SURNAMES)) + "])"
_HAN = r"[\u4e00-\u9fff]"
LABELS = ("姓名", "收货人", "收件人", "联系人", "客户", "持卡人", "会员", "顾客", "寄件人", "联系", "经办人", "先生",
          "女士")
NAME_CONTEXT = ["姓名", "名字", "客户姓名", "收货人", "收件人", "联系人", "持卡人", "name", "customer", "contact"]


class CnPersonNameRecognizer(PatternRecognizer):
    """PERSON: whole-value names (``张伟``, ``欧阳娜娜``), masked names (``张*``, ``王某某``),
    names with a middle dot (``阿依古丽·买买提``), and names after a label in free text."""

    ENTITY = "PERSON"

    def __init__(self, supported_language: str = "zh"):
        labels = "|".join(LABELS[:-2])
        patterns = [
            Pattern("cn_name_after_label", rf"(?<=(?:{labels})\s*[:：]?\s*){_SURNAME}{_HAN}{{1,2}}(?!{_HAN}{{2}})", 0.6),
            Pattern("cn_name_whole_value", rf"^\s*{_SURNAME}{_HAN}{{1,2}}\s*$", 0.4),
            Pattern("cn_name_masked", rf"^\s*{_SURNAME}(?:\*{{1,3}}|某{{1,2}}|(?:先生|女士))\s*$", 0.4),
            Pattern("cn_name_middle_dot", rf"^\s*{_HAN}{{1,6}}[·•]{_HAN}{{1,10}}\s*$", 0.4),
        ]
        super().__init__(supported_entity=self.ENTITY, name="CnPersonNameRecognizer",
                         supported_language=supported_language, patterns=patterns, context=NAME_CONTEXT)
