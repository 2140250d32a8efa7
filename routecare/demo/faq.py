# ruff: noqa: RUF001 - texts in Arabic script use its letters and full stop
"""Demo FAQ entries: the public ones in every language people on the move read (en es fr ar fa
ps ur ht), so the public FAQ page shows something in each; one staff-only entry.

The Pashto, Urdu and Haitian Creole texts await a native speaker's review, like the person
catalogue's (they are demo data, not translations of the interface).
"""

from __future__ import annotations

Texts = dict[str, tuple[str, str]]

CHARGE_AND_CALL: Texts = {
    "en": ("Where can I charge my phone and call my family?",
           "At Red Cross service points with the 🔌 symbol you can charge your phone, use the "
           "WiFi and make a free call to reach your family."),
    "es": ("¿Dónde puedo cargar mi teléfono y llamar a mi familia?",
           "En los puntos de servicio de la Cruz Roja con el símbolo 🔌 puede cargar su "
           "teléfono, usar el WiFi y hacer una llamada gratis para contactar a su familia."),
    "fr": ("Où puis-je recharger mon téléphone et appeler ma famille ?",
           "Dans les points de service de la Croix-Rouge qui portent le symbole 🔌, vous pouvez "
           "recharger votre téléphone, utiliser le WiFi et passer un appel gratuit pour joindre "
           "votre famille."),
    "ar": ("أين يمكنني شحن هاتفي والاتصال بعائلتي؟",
           "في نقاط خدمة الصليب الأحمر التي تحمل الرمز 🔌 يمكنك شحن هاتفك واستخدام شبكة "
           "الواي فاي وإجراء مكالمة مجانية للتواصل مع عائلتك."),
    "fa": ("کجا می‌توانم گوشی‌ام را شارژ کنم و با خانواده‌ام تماس بگیرم؟",
           "در نقاط خدمات صلیب سرخ که نماد 🔌 دارند می‌توانید گوشی خود را شارژ کنید، از "
           "وای‌فای استفاده کنید و برای رسیدن به خانواده‌تان یک تماس رایگان بگیرید."),
    "ps": ("زه چېرته خپل ټیلیفون چارج کولی شم او له خپلې کورنۍ سره اړیکه نیولی شم؟",
           "د سره صلیب د خدمت په هغو ځایونو کې چې 🔌 نښه لري، تاسو کولی شئ خپل ټیلیفون چارج "
           "کړئ، له وای فای څخه کار واخلئ او له خپلې کورنۍ سره د اړیکې لپاره وړیا زنګ ووهئ."),
    "ur": ("اپنا فون چارج کرنے اور گھر والوں کو کال کرنے کی سہولت کہاں ملے گی؟",
           "ریڈ کراس کے جن سروس پوائنٹس پر 🔌 کا نشان ہو، وہاں آپ اپنا فون چارج کر سکتے ہیں، "
           "وائی فائی استعمال کر سکتے ہیں اور اپنے گھر والوں سے رابطے کے لیے مفت کال کر سکتے "
           "ہیں۔"),
    "ht": ("Ki kote mwen ka chaje telefòn mwen epi rele fanmi mwen?",
           "Nan pwen sèvis Kwa Wouj ki gen senbòl 🔌 la, ou ka chaje telefòn ou, sèvi ak WiFi a "
           "epi fè yon apèl gratis pou jwenn fanmi ou."),
}  # fmt: skip

FREE_NO_DOCUMENTS: Texts = {
    "en": ("Do I have to pay or show documents to get help?",
           "No. Help from the Red Cross and Red Crescent is free, and you do not need a passport "
           "or any other document to receive it. If anyone asks you for money for this help, "
           "tell us through the feedback form."),
    "es": ("¿Tengo que pagar o mostrar documentos para recibir ayuda?",
           "No. La ayuda de la Cruz Roja y la Media Luna Roja es gratuita y no necesita "
           "pasaporte ni ningún otro documento para recibirla. Si alguien le pide dinero por "
           "esta ayuda, díganoslo en el formulario de opiniones."),
    "fr": ("Dois-je payer ou montrer des papiers pour recevoir de l'aide ?",
           "Non. L'aide de la Croix-Rouge et du Croissant-Rouge est gratuite, et vous n'avez "
           "besoin ni de passeport ni d'aucun autre document pour la recevoir. Si quelqu'un vous "
           "demande de l'argent pour cette aide, dites-le-nous avec le formulaire d'avis."),
    "ar": ("هل عليّ أن أدفع أو أن أُظهر وثائق للحصول على المساعدة؟",
           "لا. مساعدة الصليب الأحمر والهلال الأحمر مجانية، ولا تحتاج إلى جواز سفر أو أي وثيقة "
           "أخرى للحصول عليها. إذا طلب منك أحد مالاً مقابل هذه المساعدة، أخبرنا عبر نموذج "
           "الملاحظات."),
    "fa": ("آیا برای گرفتن کمک باید پول بدهم یا مدرک نشان دهم؟",
           "نه. کمک‌های صلیب سرخ و هلال احمر رایگان است و برای دریافت آن به گذرنامه یا هیچ "
           "مدرک دیگری نیاز ندارید. اگر کسی برای این کمک از شما پول خواست، از طریق فرم نظرات "
           "به ما بگویید."),
    "ps": ("ایا د مرستې د ترلاسه کولو لپاره پیسې ورکړم یا اسناد وښیم؟",
           "نه. د سره صلیب او سره میاشت مرسته وړیا ده، او د هغې د ترلاسه کولو لپاره پاسپورټ یا "
           "کوم بل سند ته اړتیا نه لرئ. که څوک د دې مرستې لپاره له تاسو پیسې وغواړي، موږ ته د "
           "نظرونو د فورمې له لارې ووایاست."),
    "ur": ("کیا مدد لینے کے لیے پیسے دینے یا کاغذات دکھانے ہوں گے؟",
           "نہیں۔ ریڈ کراس اور ریڈ کریسنٹ کی مدد مفت ہے، اور اسے حاصل کرنے کے لیے آپ کو "
           "پاسپورٹ یا کسی اور دستاویز کی ضرورت نہیں۔ اگر کوئی اس مدد کے بدلے آپ سے پیسے مانگے "
           "تو رائے کے فارم کے ذریعے ہمیں بتائیں۔"),
    "ht": ("Èske mwen dwe peye oswa montre papye pou m jwenn èd?",
           "Non. Èd Kwa Wouj ak Kwasan Wouj la gratis, epi ou pa bezwen paspò ni okenn lòt "
           "papye pou w resevwa l. Si yon moun mande w lajan pou èd sa a, di nou sa nan fòm "
           "kòmantè a."),
}  # fmt: skip

CARE_CARD: Texts = {
    "en": ("What is the care card, and who can read it?",
           "The care card carries your allergies, your medicines and the care you received, so "
           "that you do not have to tell your health story again at the next service point. "
           "Only Red Cross and Red Crescent service points of the network can read its code. "
           "It is not an identity or travel document. You decide whether you want one."),
    "es": ("¿Qué es la tarjeta de atención y quién puede leerla?",
           "La tarjeta de atención lleva sus alergias, sus medicamentos y la atención que "
           "recibió, para que no tenga que contar de nuevo su historia de salud en el próximo "
           "punto de servicio. Solo los puntos de servicio de la Cruz Roja y la Media Luna Roja "
           "de la red pueden leer su código. No es un documento de identidad ni de viaje. Usted "
           "decide si quiere una."),
    "fr": ("Qu'est-ce que la carte de soins et qui peut la lire ?",
           "La carte de soins contient vos allergies, vos médicaments et les soins que vous avez "
           "reçus, pour que vous n'ayez pas à raconter à nouveau votre histoire de santé au "
           "prochain point de service. Seuls les points de service de la Croix-Rouge et du "
           "Croissant-Rouge du réseau peuvent lire son code. Ce n'est pas un document d'identité "
           "ni de voyage. Vous décidez si vous en voulez une."),
    "ar": ("ما هي بطاقة الرعاية ومن يستطيع قراءتها؟",
           "تحمل بطاقة الرعاية ما لديك من حساسية وأدويتك والرعاية التي تلقيتها، حتى لا تضطر إلى "
           "رواية قصتك الصحية من جديد في نقطة الخدمة التالية. لا تستطيع قراءة رمزها إلا نقاط "
           "خدمة الصليب الأحمر والهلال الأحمر في الشبكة. وهي ليست وثيقة هوية ولا وثيقة سفر. "
           "أنت من يقرر إن كنت تريدها."),
    "fa": ("کارت مراقبت چیست و چه کسی می‌تواند آن را بخواند؟",
           "کارت مراقبت حساسیت‌ها، داروها و مراقبت‌هایی را که دریافت کرده‌اید در خود دارد تا "
           "مجبور نباشید در نقطه خدمات بعدی دوباره سابقه سلامت خود را تعریف کنید. فقط نقاط "
           "خدمات صلیب سرخ و هلال احمر این شبکه می‌توانند کد آن را بخوانند. این کارت سند هویت "
           "یا سفر نیست. خودتان تصمیم می‌گیرید که آن را بخواهید یا نه."),
    "ps": ("د پاملرنې کارت څه دی او څوک یې لوستلی شي؟",
           "د پاملرنې کارت ستاسو حساسیتونه، درمل او هغه پاملرنه لري چې تاسو ترلاسه کړې، ترڅو "
           "په راتلونکي خدمت ځای کې بیا خپله روغتیایي کیسه ونه کړئ. یوازې د شبکې د سره صلیب او "
           "سره میاشت د خدمت ځایونه یې کوډ لوستلی شي. دا د پېژندنې یا سفر سند نه دی. تاسو "
           "پرېکړه کوئ چې غواړئ یې که نه."),
    "ur": ("نگہداشت کارڈ کیا ہے اور اسے کون پڑھ سکتا ہے؟",
           "نگہداشت کارڈ میں آپ کی الرجی، آپ کی دوائیں اور آپ کو ملنے والا علاج درج ہوتا ہے، "
           "تاکہ اگلے سروس پوائنٹ پر آپ کو اپنی صحت کی کہانی دوبارہ نہ سنانی پڑے۔ اس کا کوڈ "
           "صرف نیٹ ورک کے ریڈ کراس اور ریڈ کریسنٹ سروس پوائنٹس پڑھ سکتے ہیں۔ یہ شناختی یا "
           "سفری دستاویز نہیں ہے۔ آپ خود فیصلہ کرتے ہیں کہ آپ یہ کارڈ لینا چاہتے ہیں یا نہیں۔"),
    "ht": ("Kisa kat swen an ye, e kiyès ki ka li l?",
           "Kat swen an pote alèji ou yo, medikaman ou yo ak swen ou te resevwa, konsa ou pa "
           "bezwen rakonte istwa sante ou ankò nan pwochen pwen sèvis la. Se sèlman pwen sèvis "
           "Kwa Wouj ak Kwasan Wouj rezo a ki ka li kòd li. Li pa yon papye idantite ni yon "
           "papye vwayaj. Se ou ki deside si ou vle youn."),
}  # fmt: skip

MEDICINES_WE_LACK: Texts = {
    "en": ("A person asks for medicines we do not have. What do I say?",
           "Do not promise. Check the directory for the next point offering medicines along "
           "their way, refer them with their consent, and note it as a follow-up."),
    "es": ("Una persona pide medicamentos que no tenemos. ¿Qué le digo?",
           "No prometa nada. Busque en el directorio el próximo punto con medicamentos en su "
           "camino, refiera a la persona con su consentimiento y anótelo como seguimiento."),
}  # fmt: skip

# (country of the focal point who writes them, tags, public, texts); the first entry of
# Honduras answers the Danlí question of the demo feedback.
FAQ: tuple[tuple[str, list[str], bool, Texts], ...] = (
    ("HN", ["connectivity", "rfl", "hn"], True, CHARGE_AND_CALL),
    ("HN", ["health-primary", "medicines", "safety"], False, MEDICINES_WE_LACK),
    ("HN", ["information"], True, FREE_NO_DOCUMENTS),
    ("HN", ["information", "health-primary"], True, CARE_CARD),
    ("RS", ["connectivity", "rfl"], True, CHARGE_AND_CALL),
    ("RS", ["information"], True, FREE_NO_DOCUMENTS),
    ("RS", ["information", "health-primary"], True, CARE_CARD),
)
