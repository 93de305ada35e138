"""Generate docret's small sample corpus: ``corpora/sample/<topic>/<NNN>.txt``.

Every sentence, title and phrase below was written for this project; nothing is copied from any
other text. The script uses only the standard library and a seeded ``random.Random(0)``, so two
runs produce byte-identical files.

Design, for a semantic-search demo:

* 8 clearly distinct topics, 40 documents each (320 in total), 60-200 words of plain prose per
  document, a title on the first line, a blank line, then the body.
* Each topic has 3 sub-themes. A document takes most of its sentences from one sub-theme and a few
  from the topic's general bank (plus, sometimes, one or two generic sentences shared by all
  topics, with words such as "report", "team", "season", so that no single word separates topics).
* Within a sub-theme the same idea is phrased with different words (``engine failure``,
  ``powerplant flameout``, ``loss of thrust``, ``the motor quit``), and each document draws a
  random subset of sentences. Many relevant documents therefore do not contain the words of a
  query, but share its context words, which a model learns from co-occurrence.

Usage::

    python corpora/make_sample.py            # rewrites corpora/sample/
    python corpora/make_sample.py --out DIR  # writes somewhere else
"""

from __future__ import annotations

import argparse
import random
import string
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

SEED = 0
DOCS_PER_TOPIC = 40
MIN_WORDS = 60
MAX_WORDS = 200
MIN_THEME_SENTENCES = 4
DEFAULT_OUT = Path(__file__).resolve().parent / "sample"

# --------------------------------------------------------------------------------------------
# Phrase banks. Format of each bank:
#   [slots]            lines "name = filler | filler | ..." (a name may repeat to add fillers)
#   [theme: NAME]      lines "title: ..." (title templates) and sentence templates
#   [general]          sentence templates usable by any document of the topic: those above the
#                      line "---" open a document, those below it close one
# Templates use {slot}; a document picks one filler per slot and keeps it throughout.
# Within a theme, sentences are listed in a rough narrative order, which documents keep.
# --------------------------------------------------------------------------------------------

SHARED = """
[general]
The team wrote a short report about the problem the following week.
Nobody expected the problem to drag on for most of the season.
In hindsight the decision looked obvious, but at the time it felt like a gamble.
A colleague later called it the most useful lesson of the whole year.
The report ended with a list of changes the team agreed to try next season.
Everyone involved admitted that the first plan had been far too optimistic.
Several people asked for a follow-up meeting to go through the details again.
It was a long week, and the whole group was tired by Friday.
The local newspaper ran a short piece about it that weekend.
Looking back, the biggest problem was poor communication rather than bad luck.
The experience changed how the team prepares for the busy part of the season.
Results were encouraging, although everyone agreed it was too early to celebrate.
"""

AVIATION = """
[slots]
kicker = From the logbook | Safety debrief | Hangar talk | Lessons from the cockpit | Pilot report
aircraft = the twin turboprop | the piston trainer | the regional jet | the light twin
aircraft = the cargo freighter | the four-seat Cessna | the narrow-body airliner
aircraft = the floatplane | the business jet | the old taildragger
airport = a mountain airstrip | a short gravel strip | a busy regional airport
airport = an island aerodrome | a coastal airfield | a high-altitude airport | a grass field
pilot = the captain | the first officer | the student pilot | the flight instructor
pilot = the ferry pilot | the check pilot
weather = gusty crosswinds | low cloud and drizzle | freezing fog | a line of thunderstorms
weather = strong mountain wave | blowing snow | a squall line
runway = runway 27 | runway 09 | runway 36 | the short runway | runway 18 left | runway 04

[theme: powerplant]
title: Engine failure shortly after takeoff from {airport}
title: Loss of thrust during the climb-out
title: Powerplant flameout at four hundred feet
title: A rejected departure at {airport}
title: Turbine surge on the departure roll
title: The morning the left motor quit
title: Dead-stick landing after fuel starvation
title: One propeller feathered, one long way home
The departure roll on {runway} looked normal until the fuel flow needle began to flicker.
An engine failure on takeoff is the scenario every multi-engine pilot rehearses in the simulator.
Just after rotation, {pilot} felt the aircraft yaw hard as the left powerplant flamed out.
The loss of thrust came at roughly four hundred feet, well into the climb-out.
Passing the end of {runway}, the turbine spooled down and the torque gauge fell to zero.
A loud bang from the compressor stall was described by passengers as an explosion.
The exhaust gas temperature spiked, then the cylinder head readings collapsed.
A bird strike during the departure had shredded two fan blades.
{pilot} called for the memory items, feathered the dead propeller and trimmed out the yaw.
Firm rudder pressure and a steady airspeed kept the airplane flying straight.
With one motor windmilling, the climb gradient was barely positive in the hot air.
{pilot} lowered the nose to hold blue-line speed and picked a field straight ahead.
The crew declared a mayday and asked the tower for an immediate return to the field.
Had the power loss come before decision speed, the right call was to abort and stop on the runway.
The dead-stick approach ended with a firm but survivable touchdown on {runway}.
Investigators later found water in the fuel sump, which explained the flameout.
The maintenance logbook showed the magneto had been replaced only ten hours earlier.

[theme: weather]
title: Crosswind landing at {airport}
title: Flying the approach in {weather}
title: Wind shear on short final
title: Icing over the ridge
title: Why we diverted to the alternate
title: A go-around in gusty conditions
title: Ground loop on a windy afternoon
The dispatcher's briefing warned of {weather} along the whole route.
The automated weather broadcast gave a crosswind component above the demonstrated limit.
Rime ice built up on the leading edges and the airspeed slowly decayed.
The de-icing boots were cycled every few minutes as the freezing drizzle thickened.
Mountain wave turbulence shook the cabin hard enough to spill coffee across the galley.
The approach into {airport} was flown in {weather}, with the windsock standing straight out.
A crab angle of nearly twenty degrees was needed to track the extended centerline.
{pilot} held a wing-low sideslip all the way into the flare to stay on the centerline.
Just before touchdown a gust lifted the upwind wing and the aircraft drifted toward the edge lights.
On short final the airspeed jumped fifteen knots and then fell away, a classic shear signature.
The crew elected to go around, added full power and raised the flaps in stages.
Visibility dropped below minimums, so they diverted to the alternate seventy miles south.
Standing water on the runway made the braking action poor and hydroplaning a real risk.
The old taildragger is notoriously unforgiving when the wind swings across the strip.
Ground loops usually begin with a small swerve that the pilot fails to catch with rudder.

[theme: navigation]
title: Lost communication over the mountains
title: Reading back a complicated clearance
title: Satellite navigation outage and the old VOR
title: A busy evening with approach control
title: Squawking 7600 over the coast
title: Holding over the fix at {airport}
The ground controller cleared them to taxi via alpha and hold short of {runway}.
{aircraft} climbed through the haze into smooth air at nine thousand feet.
{pilot} read back the clearance, including the altimeter setting and the transponder code.
Frequency congestion meant it took three attempts to check in with approach.
The controller issued a vector of two seven zero and a descent to four thousand feet.
The flight plan listed two waypoints that had been renamed in the latest chart cycle.
The GPS receiver lost its signal, so they tuned the VOR and tracked the radial by hand.
{pilot} cross-checked the heading indicator against the magnetic compass every fifteen minutes.
Headwinds aloft were stronger than forecast and ate steadily into the fuel reserve.
Traffic alerts on the collision avoidance display prompted a gentle climb.
When the radios went silent, the crew squawked 7600 and flew the last assigned routing.
A holding pattern over the fix gave the tower time to sequence the arrivals.
The glideslope was out of service, so the crew briefed a localizer-only approach.

[general]
{aircraft} had been parked at {airport} overnight.
The hangar mechanics signed off the annual inspection the afternoon before the trip.
The preflight walkaround found a small oil seep near the cowling but nothing serious.
Fuel was topped off to the tabs, giving roughly four hours of endurance.
The weight and balance sheet put the center of gravity close to the aft limit.
Pushback was delayed forty minutes while the ramp crew loaded late baggage.
Passengers were briefed on the emergency exits and the life vests under their seats.
The run-up at the holding point was normal and both magnetos checked fine.
---
The cockpit voice recorder captured every callout.
{pilot} logged the flight as one point eight hours of pilot-in-command time.
Checklists, crew resource management and simulator sessions are the backbone of airline safety.
The aviation safety board published its findings eleven months later.
Pilots and controllers share a radio vocabulary built on brevity and standard phrases.
"""

COOKING = """
[slots]
kicker = From the test kitchen | Kitchen notes | Recipe diary | Ask the cook | Family table
savory = beef stew | chicken curry | mushroom risotto | roast lamb | braised short ribs
savory = vegetable soup | pad thai | chili con carne | fish pie
bake = sourdough loaf | lemon tart | chocolate cake | croissant dough | apple pie | focaccia
bake = brioche | carrot cake
herb = thyme | rosemary | basil | coriander | parsley | tarragon | dill | sage
cook = the chef | my grandmother | the line cook | the pastry chef | a home cook | the sous-chef
pan = a cast-iron skillet | a heavy Dutch oven | a wok | a copper saucepan | a clay tagine

[theme: baking]
title: Why my {bake} collapsed
title: Notes on a {bake} for a birthday
title: Laminating butter into pastry
title: Getting a good rise without commercial yeast
title: A crisp shell and a soft filling
title: Weekend baking with {cook}
title: Rescuing a dense {bake}
{cook} weighed the flour, water and salt on a digital scale rather than trusting cups.
A sluggish starter gave the loaf a dense, gummy crumb.
The dough was kneaded for ten minutes until it passed the windowpane test.
Proofing overnight in the fridge developed a deeper, tangier flavor.
Butter for the pastry has to stay cold, or the layers smear together instead of flaking.
{cook} blind-baked the shell with ceramic weights to stop it puffing up.
Folding the egg whites in gently keeps the sponge light and airy.
Too much flour on the bench made the crust tough and pale.
The oven was preheated to two hundred and thirty degrees with a tray of water for steam.
Scoring the top with a razor blade lets the loaf expand in a controlled ear.
The crumb came out open and glossy, under a blistered, crackling crust.
A pinch of salt and a spoon of honey balanced the bitterness of the dark cocoa.
The frosting was whipped from mascarpone, cream and a little icing sugar.
Baking is chemistry: leavening, gluten and sugar behave according to precise ratios.
The {bake} cooled on a wire rack for an hour before anyone was allowed to slice it.

[theme: savory]
title: Braising {savory} low and slow
title: Searing meat properly
title: How to season a {savory}
title: A weeknight {savory} in thirty minutes
title: Rescuing an over-salted sauce
title: Spices, heat and a {savory}
title: One-pot {savory} for a cold evening
Onions, carrots and celery were sweated gently until soft and translucent.
The short ribs were browned in {pan} before going into the oven for three hours.
A hard sear creates the caramelized crust that gives the sauce its depth.
{cook} deglazed the pan with red wine, scraping up every browned bit.
Toasting whole cumin and coriander seeds in a dry pan releases their aroma.
The garlic burned within seconds, leaving a bitter, acrid taste.
Marinating the chicken in yogurt and spices overnight kept it tender and juicy.
The broth simmered with bay leaves, peppercorns and a sprig of {herb}.
The risotto needed constant stirring and ladle after ladle of hot stock.
Reduce the sauce until it coats the back of a spoon.
Umami from anchovies, miso or parmesan adds savory depth without any fishy taste.
Tasting and adjusting the seasoning at every stage separates good cooks from great ones.
Too much salt can be softened with a splash of cream or a potato simmered in the liquid.
A squeeze of lime and a handful of chopped {herb} brightened the finished {savory}.

[theme: kitchen]
title: A Saturday night on the line
title: Knife skills every home cook should learn
title: Organizing a tiny kitchen
title: Mise en place and the dinner rush
title: Food safety at a family barbecue
title: What {cook} taught me about cleaning as you go
Mise en place means every ingredient is chopped, measured and within reach before service.
A sharp chef's knife is safer than a dull one because it does not slip.
Dicing an onion quickly relies on leaving the root end intact.
The ticket printer never stopped chattering during the dinner rush.
{cook} shouted orders while the grill station fired steaks to medium rare.
The dishwasher fell behind, and the cooks ran out of clean saute pans.
Raw poultry went on the bottom shelf of the walk-in fridge to avoid cross-contamination.
A meat thermometer removes the guesswork from roasting and grilling.
Plating was simple: a swoosh of puree, the protein and a few microgreens.
Leftovers should be cooled quickly and refrigerated within two hours.
Wiping down the cutting boards between tasks keeps a small kitchen workable.

[general]
The recipe called for fresh {herb}, but dried worked in a pinch.
{cook} insists that good ingredients matter more than fancy equipment.
Seasonal produce from the farmers' market shaped the menu each week.
Every cookbook on the shelf had a different opinion about the right technique.
Cooking for a crowd requires planning the oven schedule carefully.
The kitchen smelled of butter, garlic and toasted bread.
---
Dinner was served family-style on a long wooden table.
The flavors were balanced: sweet, sour, salty and a little heat.
Guests went back for second helpings and asked for the recipe.
Leftover stock was frozen in small tubs for future soups and sauces.
A hearty meal after a cold walk is hard to beat.
"""

ASTRONOMY = """
[slots]
kicker = Club observing log | Sky notes | Ask an astronomer | Night sky diary | Space explained
object = the Andromeda galaxy | the Orion Nebula | the Pleiades cluster | a faint comet
object = the globular cluster in Hercules | the Ring Nebula | the Whirlpool galaxy
planet = Jupiter | Saturn | Mars | Venus | Neptune
scope = an eight-inch reflector | a small refractor | a pair of binoculars
scope = a Dobsonian telescope | the observatory's half-meter telescope
observer = the amateur astronomer | our club president | a visiting astrophysicist
observer = the graduate student | the night assistant | a retired physics teacher

[theme: observing]
title: Observing {object} from a dark site
title: A night under rural skies
title: Star-hopping to {object}
title: Light pollution and the vanishing Milky Way
title: First light with {scope}
title: A cold vigil for {planet}
{observer} set up {scope} in a field far from the city glow.
The sky was moonless and the transparency excellent, with the Milky Way casting faint shadows.
A red flashlight preserves night vision while reading the star chart.
Collimating the mirrors took twenty minutes but sharpened every view.
Star-hopping from a bright guide star led to the faint glow of {object}.
Averted vision revealed structure that direct staring could not.
Seeing was poor, and the disc of {planet} boiled in the turbulent air.
Through the eyepiece, the four Galilean moons lined up like beads on a string.
Dew formed on the eyepiece after midnight, so a heater strip was wrapped around the tube.
Glare from the nearby town washed out everything fainter than fourth magnitude.
A meteor streaked across Perseus, leaving a glowing trail for a second or two.
By dawn the eyepiece case was covered in frost and the notebook was full of sketches.

[theme: stars]
title: How massive stars end their lives
title: Measuring the expansion of the universe
title: What a supernova leaves behind
title: Dark matter and galaxy rotation curves
title: The slow death of a red giant
title: Standard candles and cosmic distances
A star many times heavier than the Sun burns through its hydrogen in a few million years.
Nebulae are stellar nurseries where cold gas clouds collapse to form new suns.
Spectroscopy splits starlight into a rainbow crossed by dark lines that reveal its chemistry.
When fusion stops, the core collapses and the outer layers are blasted away in a supernova.
The remnant may become a neutron star or, if heavy enough, a black hole.
A white dwarf is the cooling ember left once a Sun-like star sheds its envelope.
Cepheid variables act as standard candles for measuring cosmic distances.
Redshift in the spectra of distant galaxies shows that the universe is expanding.
The Hubble constant remains disputed because different methods give different values.
Rotation curves of spiral galaxies stay flat far from the center, hinting at dark matter.
The cosmic microwave background is the afterglow of the hot early universe.
Gravitational waves from merging black holes were first detected in 2015.

[theme: planets]
title: Hunting exoplanets with the transit method
title: A probe's long cruise to the outer planets
title: Rovers on the red planet
title: Why Venus is hotter than Mercury
title: Tracking an asteroid flyby
title: Icy moons and hidden oceans
Orbital mechanics dictate launch windows that open only every twenty-six months for Mars.
The probe used a gravity assist from Jupiter to reach the outer solar system.
Telemetry from the spacecraft arrived hours after it was transmitted.
The rover drilled into ancient lakebed sediments in search of organic molecules.
Venus has a runaway greenhouse atmosphere of carbon dioxide under sulfuric acid clouds.
Saturn's moon Enceladus sprays water ice from geysers near its south pole.
The transit method detects a planet when it dims its host star by a tiny fraction.
Radial velocity measurements reveal the wobble a planet induces in its star.
A habitable zone is the range of orbits where liquid water could exist on a surface.
The asteroid passed within a few lunar distances of Earth.
Craters on the Moon preserve a record of impacts stretching back billions of years.

[general]
Astronomy rewards patience more than expensive equipment.
The planetarium show explained the constellations visible that month.
Cloudy nights are the astronomer's constant enemy.
The observatory dome opened with a low mechanical rumble.
The solar system formed from a spinning disk of gas and dust four and a half billion years ago.
---
Light from the farthest objects left them long before Earth formed.
{observer} logged every observation with the date, time and sky conditions.
Long-exposure astrophotography revealed colors the eye cannot see.
The equatorial mount tracked the stars as the Earth turned.
A total solar eclipse turned the afternoon into twilight for three minutes.
"""

MEDICINE = """
[slots]
kicker = Case report | Clinic notes | Grand rounds | On the ward | Ask the doctor
patient = a fifty-eight-year-old man | an elderly woman | a young marathon runner
patient = a retired teacher | a construction worker | a forty-year-old smoker | a bus driver
clinician = the attending physician | the triage nurse | the cardiologist | the resident
clinician = the paramedic | the family doctor | the ward sister
abx = intravenous antibiotics | amoxicillin | ceftriaxone | vancomycin | doxycycline

[theme: cardiac]
title: Heart attack symptoms that are easy to miss
title: Crushing chest pain at the gym
title: A myocardial infarction in the emergency department
title: Cardiac arrest and the first ten minutes
title: Reading an ECG at three in the morning
title: Life after a coronary stent
{patient} arrived with crushing chest pain radiating to the left arm and jaw.
Breathlessness, sweating and nausea can be the only signs of a myocardial infarction.
A heart attack happens when blood flow to part of the heart muscle is cut off.
The electrocardiogram showed ST elevation across the anterior leads.
Troponin levels were markedly raised, confirming damage to the myocardium.
{clinician} gave chewable aspirin and activated the catheterization lab.
Bystanders performed chest compressions until the ambulance crew arrived.
Early defibrillation is the single most important factor in surviving ventricular fibrillation.
A blocked coronary artery was opened with a balloon and a stent.
An echocardiogram showed reduced pumping function in the left ventricle.
High cholesterol, smoking and hypertension all raise cardiovascular risk.
The cardiology team recommended a statin, a beta blocker and cardiac rehabilitation.
The patient went home on dual antiplatelet therapy after four days.

[theme: infection]
title: A stubborn case of pneumonia
title: When antibiotics stop working
title: Recognizing sepsis on the ward
title: Flu season in the clinic
title: Tracking a hospital outbreak
title: Fever and chills in {patient}
{patient} presented with fever, a productive cough and crackles at the right lung base.
The chest X-ray showed consolidation consistent with bacterial pneumonia.
The white cell count was elevated and the C-reactive protein climbed overnight.
Blood cultures were drawn before starting {abx}.
Rising lactate and falling blood pressure raised the alarm for septic shock.
Fluids, oxygen and early antimicrobials are the cornerstones of sepsis treatment.
A urine sample confirmed a kidney infection that explained the back pain and chills.
Resistant organisms such as MRSA spread easily when hand hygiene slips.
The infection control team isolated the ward after three patients developed diarrhea.
Viral illnesses do not respond to antibiotics, so doctors resist prescribing them for colds.
Vaccination remains the most effective protection against seasonal influenza.

[theme: chronic]
title: Living with type 2 diabetes
title: Managing blood sugar through the holidays
title: Hypertension, the silent problem
title: A new plan for an old condition
title: Kidney function and long-term medication
title: Insulin, diet and a busy job
{patient} was diagnosed with type 2 diabetes after a routine blood test.
The HbA1c had crept up to nine percent despite twice-daily metformin.
Insulin doses were adjusted to cover carbohydrate-heavy meals.
Hypoglycemia can cause shaking, confusion and sweating within minutes.
Blood pressure readings at home were consistently above one hundred and forty.
Lifestyle changes such as walking daily and cutting sugar made a measurable difference.
A dietitian helped plan meals that kept glucose levels steady.
Regular eye and foot examinations catch complications before they become serious.
The kidney function tests showed a slowly declining filtration rate.
Medication adherence improved once the pill schedule was simplified.
Many chronic conditions are managed rather than cured.

[general]
The hospital was running at full capacity, with patients waiting on trolleys in the corridor.
The ward round began at eight with a review of overnight admissions.
{clinician} reviewed the chart and ordered further tests.
A careful history often reveals more than an expensive scan.
Vital signs were recorded every fifteen minutes.
Informed consent was obtained before the procedure.
---
The symptoms improved steadily over the next forty-eight hours.
Clinical guidelines are updated as new trial evidence emerges.
The discharge summary was sent to the family doctor.
Follow-up was arranged in the outpatient clinic in six weeks.
"""

FOOTBALL = """
[slots]
kicker = Match report | Tactics board | Terrace talk | Transfer diary | Weekend round-up
team = the home side | the visitors | United | the league leaders | the newly promoted club
team = the champions | Rovers | the under-21 squad | City
player = the striker | the veteran goalkeeper | the young winger | the captain
player = the holding midfielder | the centre-back | the substitute | the left-back
ground = a packed stadium | a rain-soaked pitch | the old ground by the river
ground = a sold-out arena | a windswept coastal ground

[theme: match]
title: Late winner settles the derby
title: Stoppage-time equalizer stuns {team}
title: Penalty drama in the cup quarter-final
title: Three points for {team}
title: Comeback from two goals down
title: A red card changes everything
title: Shootout heroics on {ground}
The visitors took the lead when a header from a corner looped over the keeper.
A deflected shot wrong-footed the defense and nestled in the bottom corner.
Both sides hit the woodwork in a frantic second half.
The referee showed a straight red card for a reckless two-footed tackle.
Down to ten men, {team} defended deep and relied on the counterattack.
A penalty was awarded after the video assistant referee spotted a shirt pull in the box.
The goalkeeper made a string of reflex saves to keep the scoreline level.
{player} curled a free kick into the top corner in the eighty-ninth minute.
The equalizer came in stoppage time, sparking wild celebrations in the away end.
The crowd roared as the ball hit the net for the decisive goal.
The shootout went to sudden death before the keeper dived to his left to win it.
The match finished two-one, lifting them to third in the table.

[theme: tactics]
title: Why the high press works
title: The manager's switch to a back three
title: Pressing traps in midfield
title: Set pieces win titles
title: Rebuilding a leaky defense
title: How {team} learned to keep the ball
The coaching staff studied video of the opponent's build-up play.
The manager switched to a back three to free the wing-backs.
A high press forces hurried passes and turnovers in dangerous areas.
The holding midfielder screens the back four and recycles possession.
Overloading the left flank dragged the opposition out of shape.
Full-backs now drift into central midfield when their side has the ball.
A compact defensive block denied any space between the lines.
The offside trap failed twice, leaving the centre-backs exposed to through balls.
Possession football demands patience and precise short passing.
Set pieces were drilled every Friday at the training ground.
Expected goals figures suggested the team had been unlucky rather than poor.

[theme: squad]
title: Transfer deadline day frenzy
title: A hamstring injury and a long road back
title: The academy graduate who broke through
title: Contract talks stall with the star forward
title: Preseason training in the heat
title: Why {team} rotated the squad
The scouting department tracked the teenager for two years.
The club broke its transfer record to sign a forward from the Portuguese league.
Agents and directors negotiated late into the night before the window closed.
Contract talks stalled over wages and a release clause.
Fans chanted the new signing's name at the unveiling.
A loan spell in the second division helped the academy graduate mature.
Preseason fitness tests included repeated sprints and the bleep test.
{player} tore a hamstring and is expected to miss six weeks.
The physiotherapists managed his workload carefully after a knee ligament injury.
Squad rotation became essential with matches every three days.

[general]
Football is a game of fine margins.
The league season runs from August to May.
The fixture list was brutal, with two away trips in four days.
Ticket prices have become a sore point for loyal fans.
The match was played on {ground} in front of noisy supporters.
The supporters sang throughout the ninety minutes.
---
The dressing room was quiet after the final whistle.
The manager praised the players' character at the post-match press conference.
Pundits on television debated the referee's decisions for hours.
The relegation battle tightened with every weekend.
"""

HARDWARE = """
[slots]
kicker = Repair bench | Hardware clinic | Ask the technician | Build log | Tech support diary
part = the graphics card | the processor | the motherboard | the power supply
part = the solid-state drive | the memory kit | the cooling fan
machine = an old desktop tower | a gaming laptop | the office file server
machine = a small-form-factor PC | a video editing workstation | a home NAS box
tech = the technician | a system administrator | the hobbyist | the repair shop
tech = an overclocking enthusiast | the IT intern

[theme: thermal]
title: Why my laptop keeps overheating
title: Thermal throttling under load
title: Replacing dried-out thermal paste
title: Fan noise and dusty heatsinks
title: Keeping a server room cool
title: Heat problems in {machine}
The machine shut itself off abruptly whenever a video render began.
Under sustained load the CPU hit ninety-five degrees and throttled its clock speed.
The fans ramped up to full speed, sounding like a hair dryer.
{tech} found the heatsink fins clogged with a thick mat of dust and pet hair.
Fresh thermal paste between the die and the cooler dropped temperatures by fifteen degrees.
Poor airflow in the cramped case trapped hot air around the voltage regulators.
Hot spots on the graphics card reached temperatures that shorten component lifespan.
Case fans were rearranged so cool air entered at the front and exhausted at the rear.
A liquid cooler with a large radiator kept the chip cool even when overclocked.
Undervolting reduced power draw and heat without a noticeable loss of performance.
The air conditioning in the server room failed over a weekend and the racks overheated.

[theme: storage]
title: A failing hard drive and a lucky backup
title: Migrating to NVMe storage
title: RAID is not a backup
title: Recovering files from a dead disk
title: SMART warnings you should not ignore
title: Data loss on {machine}
The hard drive began making a faint clicking sound, a sign the read head was failing.
SMART data showed a rising count of reallocated sectors.
{tech} cloned the disk to a new NVMe drive before it died completely.
The file system was corrupted after a power cut in the middle of a write.
A RAID array protects against a dead disk but not against accidental deletion.
Sequential read speeds jumped from five hundred to over three thousand megabytes per second.
Wear leveling spreads writes across flash cells so no block wears out early.
The storage controller firmware needed an update to recognize the larger drives.
A data recovery lab rebuilt the platters in a clean room at considerable cost.
Nightly backups to an external drive saved years of family photos.

[theme: build]
title: Building a budget gaming PC
title: A memory upgrade that would not boot
title: Choosing a power supply
title: Flashing the BIOS safely
title: Reviving {machine}
title: Picking {part} for a new build
Compatibility lists from the board vendor save hours of troubleshooting.
An antistatic wrist strap prevents electrostatic discharge from frying sensitive components.
The CPU socket's pins are delicate and bend easily if the chip is dropped.
The motherboard refused to POST until the memory sticks were reseated in the right slots.
The beep code indicated a missing or faulty memory module.
{tech} flashed the BIOS to add support for the newer processor.
The power supply's wattage rating needs headroom for spikes from the graphics card.
PCI Express lanes are shared between the graphics slot and the M.2 sockets.
Cable management behind the motherboard tray improved airflow and looks.
Adding sixteen gigabytes of RAM ended the constant swapping to disk.
Benchmarks showed a modest gain in frame rates after the upgrade.

[general]
{machine} had been running for years without complaint.
{part} was the most expensive component in the build.
Silicon manufacturing has shrunk transistors to a few nanometres.
The chip shortage pushed component prices sharply higher.
Electricity costs matter when a computer runs around the clock.
The repair ticket listed the symptoms, the serial number and the warranty status.
Hardware faults often masquerade as software bugs.
---
The device manager listed an unknown peripheral on the USB bus.
A clean install of the operating system ruled out driver conflicts.
Firmware updates quietly fix many stability issues.
"""

GARDENING = """
[slots]
kicker = Allotment diary | Garden notes | Ask the gardener | Potting shed | Plot report
plant = tomatoes | runner beans | roses | courgettes | strawberries | dahlias | lettuces
plant = potatoes | sweet peas | broad beans | chillies
gardener = my neighbour | the allotment holder | the head gardener | a first-time grower
gardener = the nursery owner | my aunt

[theme: pests]
title: Aphids on the roses
title: Late blight ruins the tomato crop
title: Slugs versus seedlings
title: Powdery mildew in a dry summer
title: Vine weevil grubs in the pots
title: What is eating my {plant}?
Slugs chewed through a whole row of seedlings in a single wet night.
Brown patches on the leaves spread rapidly, a telltale sign of late blight.
Aphids clustered on the new shoots, sucking sap and leaving sticky honeydew.
Powdery mildew coated the courgette leaves in a fine white dust.
Vine weevil grubs ate the roots, so the plants wilted even in damp compost.
The stems turned black and collapsed at the soil line, a classic case of damping off.
{gardener} removed the infected foliage and burned it rather than composting it.
Ladybirds and lacewings are the gardener's allies against greenfly.
Copper tape around the pots deters snails from climbing up.
Netting kept pigeons off the brassicas.
Crop rotation helps break the life cycle of soil-borne diseases.

[theme: soil]
title: Building a better compost heap
title: Improving heavy clay soil
title: Watering through a drought
title: Mulch, worms and healthy soil
title: Testing soil acidity
title: Raised beds for {plant}
Heavy clay soil was improved by digging in well-rotted manure every autumn.
A compost heap needs a balance of green nitrogen-rich and brown carbon-rich material.
Turning the heap every few weeks speeds up decomposition.
Earthworms aerate the soil and pull organic matter down from the surface.
Leaf mould from autumn leaves makes a superb crumbly soil conditioner.
The soil test showed an acidic pH, ideal for blueberries and rhododendrons.
A thick layer of bark mulch suppresses weeds and keeps moisture in the ground.
During the hosepipe ban, {gardener} collected rainwater in barrels.
Deep, infrequent watering encourages roots to grow downward.
Drip irrigation delivers water directly to the root zone with little waste.
Raised beds warm up earlier in spring and drain freely.

[theme: growing]
title: Sowing {plant} under glass
title: A bumper harvest from a small plot
title: Pruning roses in late winter
title: Planning the vegetable beds
title: Hardening off seedlings in spring
title: Growing {plant} on an allotment
Seeds were sown in trays on the greenhouse bench in early March.
Seedlings were hardened off by leaving them outdoors a little longer each day.
The {plant} were planted out after the last frost.
Tall varieties needed canes and twine to stop them flopping over.
Pinching out side shoots channels the plant's energy into fruit.
Successional sowing every fortnight gave a steady supply of salad leaves.
Pruning in late winter encourages vigorous growth and more flowers.
Deadheading spent blooms kept the borders flowering until autumn.
Perennials were divided and replanted to rejuvenate tired clumps.
The allotment produced more {plant} than the family could eat.
The first ripe strawberries of the season were eaten straight from the bed.

[general]
{gardener} has grown vegetables on the same plot for thirty years.
Seed catalogues arrive in January, full of tempting varieties.
The shed was crammed with spades, forks, hoes and broken flowerpots.
The greenhouse thermometer read thirty-five degrees by noon.
Native hedges provide shelter and food for birds.
---
A sudden frost blackened the tender growth overnight.
Bees and butterflies visited the lavender all afternoon.
Weeding is never finished, only postponed.
Gardening teaches patience, since every mistake takes a year to correct.
The garden looked its best in the soft light of early evening.
"""

FINANCE = """
[slots]
kicker = Market wrap | Money column | Ask the analyst | Trading desk notes | Investor letter
index = the benchmark index | the Nasdaq Composite | the FTSE 100 | the Nikkei 225
index = the Dow Jones industrial average | the DAX | the Hang Seng
analyst = the strategist | a portfolio manager | the chief economist | a fund manager
analyst = the head trader | an equity analyst
sector = technology | banking | energy | retail | pharmaceutical | mining | airline

[theme: crash]
title: Stock market crash wipes out a year of gains
title: A brutal sell-off on Wall Street
title: Panic selling and the fear gauge
title: {index} enters bear market territory
title: Circuit breakers halt trading
title: Black Monday, revisited
title: The rout in {sector} shares
{index} plunged seven percent at the open, triggering a circuit breaker.
Panic selling spread from {sector} shares to almost every corner of the equity market.
The volatility index, often called the fear gauge, spiked to its highest level in a decade.
Equities tumbled as investors rushed into government bonds and gold.
Margin calls forced leveraged funds to dump positions at any price.
Liquidity dried up, and bid-ask spreads widened dramatically.
Trillions of dollars in market capitalization evaporated within a week.
The rout erased a year of gains in a matter of days.
A fall of twenty percent from the peak officially marks a bear market.
The stock market crash of 1987 remains the largest one-day percentage decline.
Short sellers profited handsomely from the slump.
{analyst} warned that capitulation had not yet arrived.
A bounce the following week was dismissed as a dead-cat rally.

[theme: rates]
title: The central bank raises rates again
title: Inflation surprises to the upside
title: Bond yields and the shape of the curve
title: What a rate cut means for mortgages
title: Quantitative tightening explained
title: Why {analyst} expects a pause
Consumer prices rose faster than expected, driven by energy and food costs.
Wage growth fed into services inflation, worrying policymakers.
The central bank raised its policy rate by half a percentage point to fight inflation.
The governor signalled that further tightening would depend on incoming data.
The currency strengthened after the hawkish announcement.
Ten-year Treasury yields climbed as bond prices fell.
An inverted yield curve has preceded most recent recessions.
Mortgage rates followed the benchmark higher, cooling the housing market.
Quantitative easing had swollen the balance sheet to a record size.
Real interest rates turned positive for the first time since the financial crisis.
{analyst} expects rate cuts to begin next year if unemployment rises.

[theme: investing]
title: Quarterly earnings beat expectations
title: Building a diversified portfolio
title: Dividends versus buybacks
title: Index funds and the cost of fees
title: An initial public offering that disappointed
title: Valuations in {sector} look stretched
The company reported quarterly earnings per share well above analysts' forecasts.
Revenue growth slowed, and the shares fell in after-hours trading.
Guidance for the next quarter was cut because of weaker demand.
The board announced a share buyback and a higher dividend.
The initial public offering was priced at the top of its range but sank on its first day.
Price-to-earnings ratios in {sector} looked stretched by historical standards.
Institutional investors trimmed their holdings ahead of the results.
A diversified portfolio spreads risk across asset classes, sectors and regions.
Low-cost index funds have steadily taken assets from active managers.
Rebalancing once a year keeps the split between stocks and bonds on target.
Compound returns over decades matter more than any single year's performance.

[general]
Trading volumes were heavy throughout the session.
Markets hate uncertainty more than bad news.
Pension funds and insurers hold large stakes in listed companies.
Brokerage apps have brought millions of retail investors into the market.
Currency moves affected the profits of exporters.
---
Financial news channels ran the headline on a loop all afternoon.
{analyst} said the outlook remained uncertain.
Regulators examined whether the disclosures had been adequate.
The annual report devoted a whole chapter to risk management.
Investors watched the closing bell with relief.
"""

BANKS: dict[str, str] = {
    "aviation": AVIATION,
    "cooking": COOKING,
    "astronomy": ASTRONOMY,
    "medicine": MEDICINE,
    "football": FOOTBALL,
    "hardware": HARDWARE,
    "gardening": GARDENING,
    "finance": FINANCE,
}


@dataclass
class Theme:
    """One sub-theme of a topic: title templates and sentence templates in narrative order."""

    name: str
    titles: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


@dataclass
class Topic:
    """A topic's slot fillers, sub-themes and general sentences, parsed from a phrase bank."""

    name: str
    slots: dict[str, list[str]] = field(default_factory=dict)
    themes: list[Theme] = field(default_factory=list)
    opening: list[str] = field(default_factory=list)
    closing: list[str] = field(default_factory=list)

    @property
    def general(self) -> list[str]:
        """All general sentences, opening ones first."""
        return self.opening + self.closing


def parse_bank(name: str, text: str) -> Topic:
    """Parse one phrase bank (the mini format described above) into a :class:`Topic`."""
    topic = Topic(name)
    section = ""
    general = topic.opening
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            if section.startswith("theme:"):
                topic.themes.append(Theme(section.split(":", 1)[1].strip()))
                section = "theme"
            elif section not in ("slots", "general"):
                raise ValueError(f"{name}: unknown section [{section}]")
            continue
        if section == "slots":
            key, _, fillers = line.partition("=")
            topic.slots.setdefault(key.strip(), []).extend(f.strip() for f in fillers.split("|"))
        elif section == "theme":
            if line.startswith("title:"):
                topic.themes[-1].titles.append(line[len("title:") :].strip())
            else:
                topic.themes[-1].sentences.append(line)
        elif section == "general" and line == "---":
            general = topic.closing
        elif section == "general":
            general.append(line)
        else:
            raise ValueError(f"{name}: text outside a section: {line!r}")
    _check_slots(topic)
    return topic


def _check_slots(topic: Topic) -> None:
    """Raise ValueError if a template names a slot the topic does not define."""
    templates = list(topic.general)
    for theme in topic.themes:
        templates += theme.titles + theme.sentences
    for template in templates:
        for _, slot, _, _ in string.Formatter().parse(template):
            if slot is not None and slot not in topic.slots:
                raise ValueError(f"{topic.name}: unknown slot {{{slot}}} in {template!r}")


class _Fillers(dict):
    """Slot values for one document: chosen on first use, then reused for consistency."""

    def __init__(self, slots: dict[str, list[str]], rng: random.Random) -> None:
        super().__init__()
        self._slots = slots
        self._rng = rng

    def __missing__(self, key: str) -> str:
        value = self._rng.choice(self._slots[key])
        self[key] = value
        return value


def _fill(template: str, fillers: _Fillers) -> str:
    """Fill a template's slots and capitalize its first letter."""
    text = template.format_map(fillers)
    return text[0].upper() + text[1:]


def _words(sentences: list[str]) -> int:
    """Count whitespace-separated words in ``sentences``."""
    return sum(len(s.split()) for s in sentences)


def _pick_title(
    topic: Topic, theme: Theme, used_titles: set[str], rng: random.Random
) -> tuple[str, _Fillers]:
    """Pick an unused title for a document of ``theme``; return it and the document's fillers.

    Each topic has 5 "kicker" prefixes ("Case report: ...") used once the plain titles run out.
    The slot values drawn for the title are kept for the body, so both name the same things.
    """
    pairs = [("", t) for t in rng.sample(theme.titles, len(theme.titles))]
    with_kicker = [(f"{k}: ", t) for k in topic.slots["kicker"] for t in theme.titles]
    pairs += rng.sample(with_kicker, len(with_kicker))
    for kicker, template in pairs:
        for _ in range(3 if "{" in template else 1):
            fillers = _Fillers(topic.slots, rng)
            title = kicker + _fill(template, fillers)
            if title not in used_titles:
                used_titles.add(title)
                return title, fillers
    fillers = _Fillers(topic.slots, rng)
    base = _fill(rng.choice(theme.titles), fillers)
    part = 2
    while f"{base} (part {part})" in used_titles:
        part += 1
    title = f"{base} (part {part})"
    used_titles.add(title)
    return title, fillers


def make_document(
    topic: Topic, theme: Theme, shared: list[str], used_titles: set[str], rng: random.Random
) -> str:
    """Write one document: a title line, a blank line and one or two wrapped paragraphs."""
    title, fillers = _pick_title(topic, theme, used_titles, rng)

    target = rng.randint(MIN_WORDS + 5, 160)
    n_general = rng.randint(1, 3)
    n_shared = rng.choice((0, 0, 1, 1, 2))
    general = rng.sample(topic.general, n_general)
    intro = [x for x in topic.opening if x in general]
    outro = [x for x in topic.closing if x in general] + rng.sample(shared, n_shared)
    # Keep theme sentences in their narrative order, drawn as a random subset.
    order = rng.sample(range(len(theme.sentences)), len(theme.sentences))
    chosen: list[int] = []
    for idx in order:
        words = _words([theme.sentences[i] for i in chosen] + intro + outro)
        if len(chosen) >= MIN_THEME_SENTENCES and words >= target:
            break
        chosen.append(idx)
    middle = [theme.sentences[i] for i in sorted(chosen)]
    sentences = [_fill(x, fillers) for x in intro + middle + outro]
    while _words(sentences) > MAX_WORDS - len(title.split()):
        sentences.pop(len(sentences) // 2)
    extra = [x for x in topic.closing if x not in general]
    rng.shuffle(extra)
    while _words(sentences) < MIN_WORDS and extra:
        sentences.append(_fill(extra.pop(), fillers))

    if len(sentences) >= 6:
        half = len(sentences) // 2 + rng.randint(-1, 1)
        paragraphs = [sentences[:half], sentences[half:]]
    else:
        paragraphs = [sentences]
    wrap = textwrap.TextWrapper(width=78, break_on_hyphens=False)
    body = "\n\n".join(wrap.fill(" ".join(p)) for p in paragraphs)
    return f"{title}\n\n{body}\n"


def generate(out: Path) -> dict[str, int]:
    """Remove stale ``*/*.txt`` files under ``out`` and write the sample corpus there.

    Returns the number of documents written per topic.
    """
    if out.exists():
        for old in sorted(out.glob("*/*.txt")):
            old.unlink()
        for folder in sorted(out.iterdir()):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    rng = random.Random(SEED)
    shared = parse_bank("shared", SHARED).general
    counts: dict[str, int] = {}
    for name, bank in BANKS.items():
        topic = parse_bank(name, bank)
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        plan = [topic.themes[i % len(topic.themes)] for i in range(DOCS_PER_TOPIC)]
        rng.shuffle(plan)
        used_titles: set[str] = set()
        for number, theme in enumerate(plan, start=1):
            text = make_document(topic, theme, shared, used_titles, rng)
            (folder / f"{number:03d}.txt").write_text(text, encoding="utf-8", newline="\n")
        counts[name] = len(plan)
    return counts


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description="Write docret's deterministic sample corpus (8 topics x 40 documents)."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output folder (default: corpora/sample next to this script); "
        "stale */*.txt files and empty folders in it are removed first",
    )
    args = parser.parse_args(argv)
    counts = generate(args.out)
    print(f"wrote {sum(counts.values())} documents in {len(counts)} topics to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
