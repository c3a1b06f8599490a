/**
 * The demo catalog: 60 products in 6 categories, generated deterministically so that the catalog
 * service (names, prices) and the inventory service (starting stock) agree on ids without sharing a
 * database. Each service seeds its own data from this list idempotently on first start.
 */
export interface SeedProduct {
  id: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  initialStock: number;
}

const catalog: Record<string, [string, string][]> = {
  coffee: [
    ['Ethiopia Yirgacheffe Beans', 'Bright, floral single-origin whole beans, 250 g.'],
    ['Colombia Huila Beans', 'Caramel and red fruit, medium roast, 250 g.'],
    ['Espresso House Blend', 'Chocolatey blend for milk drinks, 1 kg.'],
    ['Pour-Over Dripper', 'Ceramic cone dripper with a spiral rib.'],
    ['Gooseneck Kettle', 'Temperature-controlled kettle for precise pours.'],
    ['Burr Grinder', 'Conical steel burrs, 40 grind settings.'],
    ['Milk Frothing Pitcher', 'Stainless steel, 600 ml.'],
    ['Cold Brew Jar', 'Glass jar with a fine mesh filter, 1.5 l.'],
    ['Paper Filters (100)', 'Unbleached filters for cone drippers.'],
    ['Coffee Scale', 'Scale with a built-in timer, 0.1 g resolution.'],
  ],
  books: [
    ['Designing Data-Intensive Applications', 'Reliable, scalable and maintainable systems.'],
    ['Site Reliability Engineering', 'How Google runs production systems.'],
    ['Release It!', 'Design and deploy production-ready software.'],
    ['Building Microservices', 'Designing fine-grained systems.'],
    ['Observability Engineering', 'Achieving production excellence.'],
    ['Database Internals', 'A deep dive into how distributed data systems work.'],
    ['Enterprise Integration Patterns', 'Messaging solutions for enterprise systems.'],
    ['Domain-Driven Design Distilled', 'The essentials of strategic and tactical design.'],
    ['Distributed Systems Notes', 'Consensus, replication and clocks explained.'],
    ['The Pragmatic Programmer', 'Your journey to mastery.'],
  ],
  outdoors: [
    ['Trail Running Shoes', 'Grippy outsole, rock plate, 8 mm drop.'],
    ['Ultralight Tent', 'Two-person, 1.2 kg, freestanding.'],
    ['Down Sleeping Bag', 'Comfort rating -5 C, 800 fill power.'],
    ['Headlamp', '400 lumens, rechargeable.'],
    ['Water Filter', 'Squeeze filter, 0.1 micron.'],
    ['Trekking Poles', 'Carbon, collapsible, pair.'],
    ['Hydration Pack', '12 l pack with a 2 l bladder.'],
    ['Camp Stove', 'Canister stove with a piezo igniter.'],
    ['Merino Base Layer', 'Long sleeve, 200 gsm.'],
    ['Rain Shell', 'Waterproof breathable jacket.'],
  ],
  electronics: [
    ['Mechanical Keyboard', 'Hot-swappable switches, 75% layout.'],
    ['Noise-Cancelling Headphones', 'Over-ear, 30 h battery.'],
    ['USB-C Dock', 'Two displays, 100 W passthrough.'],
    ['4K Monitor', '27-inch IPS, USB-C input.'],
    ['Wireless Mouse', 'Ergonomic, silent clicks.'],
    ['Webcam', '1080p with a privacy shutter.'],
    ['Portable SSD', '1 TB, USB 3.2.'],
    ['Smart Plug', 'Energy monitoring, local control.'],
    ['E-Reader', 'Glare-free 7-inch display.'],
    ['Raspberry Pi Kit', 'Board, case, power supply and SD card.'],
  ],
  home: [
    ['Cast Iron Skillet', 'Pre-seasoned, 26 cm.'],
    ['Chef Knife', '20 cm, stainless steel.'],
    ['Linen Sheets', 'Queen size, stone washed.'],
    ['Desk Lamp', 'Dimmable LED with a warm setting.'],
    ['Houseplant Pot Set', 'Three ceramic pots with saucers.'],
    ['Wool Throw', 'Soft merino blanket.'],
    ['Bamboo Cutting Board', 'Large, with a juice groove.'],
    ['French Press', 'Double-walled, 1 l.'],
    ['Storage Jars', 'Set of six airtight glass jars.'],
    ['Standing Desk Mat', 'Anti-fatigue mat.'],
  ],
  games: [
    ['Strategy Board Game', 'Two to four players, 90 minutes.'],
    ['Cooperative Card Game', 'Save the city together.'],
    ['Puzzle 1000 Pieces', 'Mountain lake landscape.'],
    ['Chess Set', 'Weighted pieces, folding board.'],
    ['Dice Set', 'Seven polyhedral dice.'],
    ['Party Word Game', 'For six or more players.'],
    ['Train Route Game', 'Build railways across a continent.'],
    ['Tile Laying Game', 'Place tiles, score cities.'],
    ['Deduction Game', 'Find the spy among you.'],
    ['Logic Puzzle Book', '200 puzzles, easy to fiendish.'],
  ],
};

const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

function build(): SeedProduct[] {
  const products: SeedProduct[] = [];
  let n = 0;
  for (const [category, items] of Object.entries(catalog)) {
    for (const [name, description] of items) {
      n += 1;
      products.push({
        id: `${slug(name)}`.slice(0, 48),
        name,
        description,
        category,
        // Deterministic, realistic-looking prices between 4.99 and 349.99.
        priceCents: 499 + ((n * 7919) % 34_500),
        initialStock: 20 + ((n * 37) % 80),
      });
    }
  }
  return products;
}

export const seedProducts: readonly SeedProduct[] = build();
export const seedCategories: readonly string[] = Object.keys(catalog);
