//! The product vocabulary the caption parser and the tagger share: the lexicon of product
//! nouns, slang and brands in the languages sellers write in, and the Shopify taxonomy's
//! category names. It sits below both, so neither depends on the other for it.

/// The Shopify Product Taxonomy 2024-07 (MIT, see data/shopify-taxonomy/LICENSE), shipped
/// inside the binary so the tagger needs no data file besides its embeddings.
pub const SHOPIFY_TAXONOMY: &str = include_str!("../../../data/shopify-taxonomy/categories.txt");

/// Lexical evidence: product nouns, slang, brand and model names in the languages sellers
/// write in, each pointing at a taxonomy path. Embeddings alone confuse near neighbours
/// ("heels" → heel cushions, "AirPods" → air pumps); a written product noun is strong
/// evidence, so it steers the tagger's ranking and the embedding picks within its subtree.
///
/// `(terms separated by '|', taxonomy path, weight)`. Terms are folded (lower case, no
/// accents) word sequences; a trailing `s`/`es` on the caption's last word also matches.
/// Weight orders competing hits: accessories (1.3) beat the device they fit ("iPhone
/// case"), garments (1.0) beat fabrics and styles (0.5, "Ankara gown").
pub const PRODUCT_TERMS: &[(&str, &str, f32)] = &[
    // Shoes
    ("heels|high heels|stilettos|pumps|tacones|talons|escarpins|kasut tumit tinggi", "Apparel & Accessories > Shoes > Heels", 1.0),
    ("sneakers|sneaker|trainers|kicks|zapatillas|tenis|baskets|kasut sukan|air force 1|air force one|af1|jordans|jordan 1|yeezy|yeezys|air max|new balance|converse|vans", "Apparel & Accessories > Shoes > Sneakers", 1.0),
    ("sandals|sandal|sandalias|sandales|slides|palm slippers|palms|chinelos", "Apparel & Accessories > Shoes > Sandals", 1.0),
    ("boots|boot|botas|bottes|ankle boots|timberland|timberlands", "Apparel & Accessories > Shoes > Boots", 1.0),
    ("slippers|slipper|pantuflas|chinelas|mules|flip flops|flipflops", "Apparel & Accessories > Shoes > Slippers", 1.0),
    ("flats|ballet flats|loafers|mocassins|moccasins", "Apparel & Accessories > Shoes > Flats", 1.0),
    ("shoes|shoe|zapatos|chaussures|sapatos|kasut|viatu|kiatu|sepatu", "Apparel & Accessories > Shoes", 0.8),
    // Clothing
    ("dress|dresses|gown|gowns|vestido|vestidos|robe|robes|elbise|maxi dress|bodycon|kaftan|kaftans|boubou|bubu", "Apparel & Accessories > Clothing > Dresses", 1.0),
    ("saree|sarees|sari|saris|lehenga|lehengas", "Apparel & Accessories > Clothing > Traditional & Ceremonial Clothing > Saris & Lehengas", 1.0),
    ("kurti|kurtis|kurta|kurtas|salwar|churidar|baju kurung|baju melayu|kebaya|abaya|abayas|dashiki|agbada|aso oke|senator wear|jalabiya|jellabiya|thobe|kanzu|kitenge dress", "Apparel & Accessories > Clothing > Traditional & Ceremonial Clothing", 1.0),
    ("jeans|jean|denim pants|vaqueros|jeans femme|calca jeans", "Apparel & Accessories > Clothing > Pants > Jeans", 1.0),
    ("trousers|pants|chinos|joggers|cargo pants|pantalon|pantalones|calca|seluar", "Apparel & Accessories > Clothing > Pants", 0.9),
    ("t-shirt|t shirt|tshirt|tee|tees|t-shirts|tshirts|camiseta|camisetas|baju t", "Apparel & Accessories > Clothing > Clothing Tops > T-Shirts", 1.0),
    ("shirt|shirts|kemeja|camisa|camisas|chemise|chemises|polo|polos|gomlek", "Apparel & Accessories > Clothing > Clothing Tops > Shirts", 0.95),
    ("blouse|blouses|blusa|blusas", "Apparel & Accessories > Clothing > Clothing Tops > Blouses", 1.0),
    ("hoodie|hoodies|sudadera|sudaderas", "Apparel & Accessories > Clothing > Clothing Tops > Hoodies", 1.0),
    ("sweater|sweaters|jumper|jumpers|cardigan|cardigans|pullover|knitwear", "Apparel & Accessories > Clothing > Clothing Tops > Sweaters", 1.0),
    ("sweatshirt|sweatshirts|crewneck", "Apparel & Accessories > Clothing > Clothing Tops > Sweatshirts", 1.0),
    ("jacket|jackets|coat|coats|blazer|blazers|puffer|chaqueta|chamarra|chamarras|campera|camperas|cazadora|veste|manteau|jaqueta|ceket", "Apparel & Accessories > Clothing > Outerwear > Coats & Jackets", 1.0),
    ("skirt|skirts|falda|faldas|jupe|jupes|saia", "Apparel & Accessories > Clothing > Skirts", 1.0),
    ("shorts|short pants|bermudas", "Apparel & Accessories > Clothing > Shorts", 1.0),
    ("suit|suits|tuxedo|three piece suit|two piece suit|terno", "Apparel & Accessories > Clothing > Suits", 1.0),
    ("two piece set|2 piece set|co-ord|coord set|matching set|outfit set|tracksuit|tracksuits", "Apparel & Accessories > Clothing > Outfit Sets", 1.0),
    ("bra|bras|sutian|soutien", "Apparel & Accessories > Clothing > Lingerie > Bras", 1.0),
    ("lingerie|panties|underwear|boxers|briefs", "Apparel & Accessories > Clothing > Lingerie", 0.9),
    ("mitumba|thrift|thrifted|bale|okrika|clothes|clothing|ropa|vetements|roupas|nguo|pakaian|baju", "Apparel & Accessories > Clothing", 0.5),
    ("baby clothes|onesie|onesies|romper|rompers|babygrow|babygrows", "Apparel & Accessories > Clothing > Baby & Toddler Clothing", 1.0),
    // Fabrics and prints: weak, a garment noun wins.
    ("ankara|kitenge|chitenge|kente|adire|batik|lace fabric|fabric|fabrics|yards|tissu|tela|kain", "Arts & Entertainment > Hobbies & Creative Arts > Arts & Crafts > Art & Crafting Materials > Textiles > Fabric", 0.5),
    // Accessories
    ("handbag|handbags|bag|bags|purse|purses|tote|totes|clutch|clutches|crossbody|shoulder bag|bolso|bolsa|bolsos|sac|sacs|beg tangan|mkoba|tas", "Apparel & Accessories > Handbags, Wallets & Cases > Handbags", 0.9),
    ("wallet|wallets|cartera|portefeuille|dompet", "Apparel & Accessories > Handbags, Wallets & Cases > Wallets & Money Clips", 1.0),
    ("backpack|backpacks|mochila|sac a dos|school bag", "Luggage & Bags > Backpacks", 1.0),
    ("suitcase|suitcases|luggage|trolley bag|maleta|valise", "Luggage & Bags > Suitcases", 1.0),
    ("necklace|necklaces|pendant|collier|kalung|cheni", "Apparel & Accessories > Jewelry > Necklaces", 1.0),
    ("chain|chains|collar", "Apparel & Accessories > Jewelry > Necklaces", 0.7),
    ("earrings|earring|studs|hoops|aretes|pendientes|boucles d oreilles|anting", "Apparel & Accessories > Jewelry > Earrings", 1.0),
    ("ring|rings|anillo|anillos|bague|bagues|cincin|pete", "Apparel & Accessories > Jewelry > Rings", 0.95),
    ("bracelet|bracelets|bangle|bangles|pulsera|pulseras|gelang", "Apparel & Accessories > Jewelry > Bracelets", 1.0),
    ("watches|wristwatch|wristwatches|reloj|relojes|montre|montres|jam tangan|saa", "Apparel & Accessories > Jewelry > Watches", 1.0),
    ("watch", "Apparel & Accessories > Jewelry > Watches", 0.7),
    ("smartwatch|smartwatches|smart watch|apple watch|galaxy watch|fitness band", "Apparel & Accessories > Jewelry > Smart Watches", 1.1),
    ("sunglasses|shades|gafas de sol|lunettes de soleil|cermin mata hitam", "Apparel & Accessories > Clothing Accessories > Sunglasses", 1.0),
    ("hat|hats|cap|caps|beanie|beanies|bucket hat|fedora|gorra|gorras|casquette|topi|kofia", "Apparel & Accessories > Clothing Accessories > Hats", 1.0),
    ("scarf|scarves|shawl|shawls|hijab|hijabs|tudung|headwrap|head wrap|gele|dupatta|pashmina", "Apparel & Accessories > Clothing Accessories > Scarves & Shawls", 1.0),
    ("belt|belts|cinturon|ceinture|tali pinggang", "Apparel & Accessories > Clothing Accessories > Belts", 1.0),
    ("wig|wigs|frontal|frontals|lace front|closure wig|bone straight|peluca|perruque|rambut palsu", "Apparel & Accessories > Clothing Accessories > Hair Accessories > Wigs", 1.0),
    ("hair extensions|extensions|weave|weaves|bundles|braiding hair|attachment|attachments", "Apparel & Accessories > Clothing Accessories > Hair Accessories > Hair Extensions", 1.0),
    // Beauty
    ("lipstick|lipsticks|lip gloss|lipgloss|batom|rouge a levres|gincu", "Health & Beauty > Personal Care > Cosmetics > Makeup > Lip Makeup > Lipsticks", 1.0),
    ("foundation|concealer|face powder|primer|blush|bronzer|highlighter", "Health & Beauty > Personal Care > Cosmetics > Makeup > Face Makeup", 1.0),
    ("perfume|perfumes|fragrance|fragrances|cologne|eau de parfum|edp|parfum|perfume oil|oud|attar|minyak wangi", "Health & Beauty > Personal Care > Cosmetics > Perfumes & Colognes", 1.0),
    ("serum|serums|face serum|vitamin c serum|niacinamide", "Health & Beauty > Personal Care > Cosmetics > Skin Care > Face Serums", 1.0),
    ("lotion|lotions|body lotion|moisturizer|moisturiser|body cream|shea butter|cocoa butter", "Health & Beauty > Personal Care > Cosmetics > Skin Care > Lotions & Moisturizers", 1.0),
    ("skincare|skin care|face wash|cleanser|toner|sunscreen|spf", "Health & Beauty > Personal Care > Cosmetics > Skin Care", 0.9),
    ("soap|soaps|black soap|body wash|shower gel|sabun", "Health & Beauty > Personal Care > Cosmetics > Bath & Body", 1.0),
    ("shampoo|conditioner|hair oil|hair growth oil|hair cream|edge control|leave in", "Health & Beauty > Personal Care > Hair Care", 1.0),
    ("nail polish|nail polishes|press on nails|press-on nails|gel polish|kutek", "Health & Beauty > Personal Care > Cosmetics > Nail Care", 1.0),
    ("lashes|eyelashes|mink lashes|false lashes|mascara|eyeliner|eyeshadow|eye shadow", "Health & Beauty > Personal Care > Cosmetics > Makeup > Eye Makeup", 1.0),
    ("hair dryer|blow dryer|flat iron|straightener|curling iron|curling wand", "Health & Beauty > Personal Care > Hair Care > Hair Styling Tools", 1.0),
    // Electronics
    ("phone|phones|smartphone|smartphones|mobile phone|iphone|iphones|samsung galaxy|galaxy s|galaxy a|tecno|infinix|itel|redmi|xiaomi|pixel|oppo|vivo|huawei|celular|telephone|simu|handphone", "Electronics > Communications > Telephony > Mobile & Smart Phones", 1.0),
    ("phone case|phone cases|phone cover|phone covers|iphone case|iphone cases|samsung case|screen protector|tempered glass|capinha|funda|coque", "Electronics > Communications > Telephony > Mobile & Smart Phone Accessories", 1.3),
    ("charger|chargers|charging cable|usb cable|type c cable|adapter|fast charger|cargador|chargeur", "Electronics > Electronics Accessories > Power > Power Adapters & Chargers", 1.3),
    ("power bank|powerbank|power banks|powerbanks", "Electronics > Electronics Accessories > Power > Power Adapters & Chargers > Power Banks", 1.4),
    ("airpods|airpod|earbuds|earpods|earphones|headphones|headphone|headset|headsets|buds|tws|auriculares|ecouteurs", "Electronics > Audio > Audio Components > Headphones & Headsets", 1.1),
    ("speaker|speakers|bluetooth speaker|soundbar|jbl|boombox", "Electronics > Audio > Audio Components > Speakers", 1.0),
    ("laptop|laptops|macbook|notebook pc|thinkpad|chromebook|elitebook|probook|latitude|inspiron|ideapad|zenbook|vivobook|core i3|core i5|core i7|portatil|ordinateur portable", "Electronics > Computers > Laptops", 1.0),
    ("tablet|tablets|ipad|ipads|galaxy tab", "Electronics > Computers > Tablet Computers", 1.0),
    ("tv|tvs|television|televisions|smart tv|led tv|oled", "Electronics > Video > Televisions", 1.0),
    ("ps5|ps4|playstation|xbox|nintendo switch|game console|gaming console", "Electronics > Video Game Consoles", 1.0),
    ("camera|cameras|dslr|mirrorless|gopro|camara", "Cameras & Optics > Cameras", 1.0),
    // Home
    ("candle|candles|soy candle|soy candles|scented candle|scented candles|bougie|bougies|velas", "Home & Garden > Decor > Home Fragrances > Candles", 1.0),
    ("bedsheet|bedsheets|bed sheet|bed sheets|duvet|duvets|comforter|pillowcase|pillowcases|bedding|sprei", "Home & Garden > Linens & Bedding > Bedding", 1.0),
    ("curtain|curtains|cortinas|rideaux|langsir", "Home & Garden > Decor > Window Treatments > Curtains & Drapes", 1.0),
    ("pot|pots|pan|pans|cookware|non stick|nonstick|frying pan|cooking pot|sufuria", "Home & Garden > Kitchen & Dining > Cookware & Bakeware", 1.0),
    ("blender|blenders|licuadora|mixeur", "Home & Garden > Kitchen & Dining > Kitchen Appliances > Food Mixers & Blenders", 1.1),
    ("sofa|sofas|couch|couches|sectional|settee", "Furniture > Sofas", 1.0),
    ("chair|chairs|stool|stools|silla|sillas|chaise", "Furniture > Chairs", 1.0),
    ("table|tables|dining table|coffee table|mesa|meja", "Furniture > Tables", 0.95),
    // Baby, toys, food, pets, vehicles
    ("diaper|diapers|nappies|nappy|pampers|huggies|panales|couches bebe", "Baby & Toddler > Diapering > Diapers", 1.0),
    ("stroller|strollers|pram|prams|pushchair|carriola|poussette", "Baby & Toddler > Baby Transport > Baby Strollers", 1.0),
    ("toy|toys|doll|dolls|lego|teddy|teddy bear|plush|juguete|juguetes|jouet|jouets|mainan", "Toys & Games > Toys", 1.0),
    ("cake|cakes|birthday cake|cupcake|cupcakes|gateau|kek", "Food, Beverages & Tobacco > Food Items > Bakery > Cakes & Dessert Bars", 1.0),
    ("snacks|chin chin|plantain chips|chips|crisps|cookies|biscuits|kuih", "Food, Beverages & Tobacco > Food Items > Snack Foods", 1.0),
    ("rice|basmati|ofada|jollof rice|beras|arroz", "Food, Beverages & Tobacco > Food Items > Grains, Rice & Cereal", 1.0),
    ("dog food|cat food|pet food|kibble", "Animals & Pet Supplies > Pet Supplies", 1.1),
    ("bicycle|bicycles|bike|bikes|bicicleta|velo|basikal", "Sporting Goods > Outdoor Recreation > Cycling > Bicycles", 1.0),
    ("car parts|spare parts|tyres|tires|rims|brake pads|headlight|headlights", "Vehicles & Parts > Vehicle Parts & Accessories > Motor Vehicle Parts", 1.0),
];
